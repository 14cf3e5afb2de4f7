/**
 * What keeps the shipped bundle (rolldown.config.mjs) small in memory once loaded: V8 keeps each
 * chunk's source, so a chunk must stay Latin-1 (one byte per character), and the parts of
 * @kubernetes/client-node that syncgate does not use (undici, the generated API and model
 * classes) and iconv-lite's CJK tables must stay out of it, and loading it must not load node's
 * own undici.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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

  it('loads each package it defers to first use (rolldown.config.mjs) from the copy client-node itself would load', async () => {
    type Exports = { classes?: string[]; functions?: string[]; statics?: Record<string, string[]> };
    const { ON_FIRST_USE } = (await import(pathToFileURL(path.join(REPO_ROOT, 'rolldown.config.mjs')).href)) as { ON_FIRST_USE: Record<string, Exports> };
    const fromBundle = createRequire(path.join(BUNDLE, 'syncgate.js'));
    const fromKubeClient = createRequire(path.join(REPO_ROOT, 'node_modules', '@kubernetes', 'client-node', 'dist', 'config.js'));
    const packageDir = (file: string, name: string) => file.slice(0, file.lastIndexOf(`node_modules/${name}/`) + `node_modules/${name}`.length);
    expect(Object.keys(ON_FIRST_USE)).toContain('undici');
    for (const [name, { classes = [], functions = [], statics = {} }] of Object.entries(ON_FIRST_USE)) {
      expect(packageDir(fromBundle.resolve(name), name), name).toBe(packageDir(fromKubeClient.resolve(name), name));
      const loaded = fromBundle(name) as Record<string, Record<string, unknown>>;
      for (const fn of [...classes, ...functions]) expect(typeof loaded[fn], `${name}.${fn}`).toBe('function');
      for (const [object, methods] of Object.entries(statics)) for (const m of methods) expect(typeof loaded[object]?.[m], `${name}.${object}.${m}`).toBe('function');
      expect(chunks().some(({ text }) => text.includes(`createRequire(import.meta.url)(${JSON.stringify(name)})`)), name).toBe(true);
    }
  });

  it('loads none of node’s own undici when its chunks are imported (node:http is never imported as an ES module)', () => {
    const entry = 'syncgate.js';
    const imports = chunks()
      .filter(({ name }) => name !== entry)
      .map(({ name }) => `await import(${JSON.stringify(pathToFileURL(path.join(BUNDLE, name)).href)});`);
    const script = `${imports.join('\n')}\nconsole.log(JSON.stringify(process.moduleLoadList.filter((m) => /undici/.test(m))));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    expect(imports.length).toBeGreaterThan(10);
    expect(loaded).toEqual([]);
  });
});
