import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, VERSION } from '../src/package-root.js';
import { REPO_ROOT, runCli } from './cli/run-cli.js';

describe('the package root and version', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('are the repository’s, from src/ as from the bundle (which sits one directory deeper than tsc’s output)', async () => {
    expect(PACKAGE_ROOT).toBe(REPO_ROOT);
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(manifest.version);
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(manifest.version);
  });

  it('skip a package.json that is not syncgate’s, and say so when there is none', async () => {
    // A copy of the module under a directory whose package.json is another package's, under one
    // that is syncgate's: the walk goes past the first.
    const top = mkdtempSync(path.join(tmpdir(), 'syncgate-root-'));
    dirs.push(top);
    const inner = path.join(top, 'vendor', 'lib');
    mkdirSync(inner, { recursive: true });
    writeFileSync(path.join(top, 'package.json'), JSON.stringify({ name: 'syncgate', version: '9.8.7' }));
    writeFileSync(path.join(top, 'vendor', 'package.json'), JSON.stringify({ name: 'other', version: '1.0.0' }));
    const built = readFileSync(path.join(REPO_ROOT, 'dist', 'package-root.js'), 'utf8')
      .replace(/^\/\/# sourceMappingURL=.*$/m, '')
      .replace("from './errors.js'", `from ${JSON.stringify(path.join(REPO_ROOT, 'dist', 'errors.js'))}`);
    writeFileSync(path.join(inner, 'package-root.mjs'), built);
    const found = (await import(path.join(inner, 'package-root.mjs'))) as { PACKAGE_ROOT: string; VERSION: string };
    expect(found).toMatchObject({ PACKAGE_ROOT: top, VERSION: '9.8.7' });

    const lonely = mkdtempSync(path.join(tmpdir(), 'syncgate-noroot-'));
    dirs.push(lonely);
    writeFileSync(path.join(lonely, 'package-root.mjs'), built);
    await expect(import(path.join(lonely, 'package-root.mjs'))).rejects.toMatchObject({ code: 'PACKAGE_ROOT_NOT_FOUND', message: expect.stringMatching(/syncgate's package\.json was not found in .*syncgate-noroot-/) });
  });
});
