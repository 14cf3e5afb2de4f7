/**
 * What keeps the shipped bundle (rolldown.config.mjs) small in memory once loaded: V8 keeps each
 * chunk's source, so a chunk must stay Latin-1 (one byte per character), and the parts of
 * @kubernetes/client-node that syncgate does not use (undici, the generated API and model
 * classes) and iconv-lite's CJK tables must stay out of it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './cli/run-cli.js';

const BUNDLE = path.join(REPO_ROOT, 'dist', 'bundle');
const chunks = () => readdirSync(BUNDLE).filter((f) => f.endsWith('.js')).map((f) => ({ name: f, text: readFileSync(path.join(BUNDLE, f), 'utf8') }));

describe('the shipped bundle', () => {
  it('has only Latin-1 characters in every chunk', () => {
    const all = chunks();
    expect(all.length).toBeGreaterThan(10);
    const wide = all.flatMap(({ name, text }) => {
      const found = text.match(/[\u{100}-\u{10FFFF}]/gu);
      return found ? [`${name}: ${found.length} (${[...new Set(found)].slice(0, 5).join(' ')})`] : [];
    });
    expect(wide).toEqual([]);
  });

  it('leaves out undici and client-node’s generated API and model classes, keeping its KubeConfig', () => {
    const modules = chunks().flatMap(({ text }) => text.match(/^\/\/ node_modules\/\S+/gm) ?? []);
    expect(modules).toContain('// node_modules/@kubernetes/client-node/dist/config.js');
    expect(modules.filter((m) => m.includes('node_modules/undici/'))).toEqual([]);
    expect(modules.filter((m) => /client-node\/dist\/gen\/(apis|models)\//.test(m))).toEqual([]);
  });

  it('requires iconv-lite’s CJK tables from node_modules, at paths that exist', () => {
    const required = chunks().flatMap(({ text }) => [...text.matchAll(/__require\("([^"]*iconv-lite\/encodings\/tables\/[^"]+)"\)/g)].map((m) => m[1]!));
    expect(new Set(required.map((r) => path.basename(r)))).toEqual(new Set(readdirSync(path.join(REPO_ROOT, 'node_modules', 'iconv-lite', 'encodings', 'tables'))));
    expect(required.filter((r) => !existsSync(path.resolve(BUNDLE, r)))).toEqual([]);
  });
});
