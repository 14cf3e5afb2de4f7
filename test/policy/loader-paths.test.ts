import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { minimalPolicy } from '../helpers/policies.js';
import { loadPolicies, policyFiles } from '../../src/policy/loader.js';


describe('policy paths', () => {
  it('reads a mounted ConfigMap: visible symlinks into ..data, hidden entries skipped', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-cm-'));
    // The layout the kubelet writes for a ConfigMap volume.
    await mkdir(path.join(dir, '..2026_11_22_01_00_00.123'));
    await writeFile(path.join(dir, '..2026_11_22_01_00_00.123', 'a.yaml'), minimalPolicy('a'));
    await writeFile(path.join(dir, '..2026_11_22_01_00_00.123', 'b.yaml'), minimalPolicy('b'));
    await symlink('..2026_11_22_01_00_00.123', path.join(dir, '..data'));
    await symlink(path.join('..data', 'a.yaml'), path.join(dir, 'a.yaml'));
    await symlink(path.join('..data', 'b.yaml'), path.join(dir, 'b.yaml'));
    expect((await loadPolicies([dir])).map((p) => p.name)).toEqual(['a', 'b']);
  });

  it('refuses a path that is not a regular file or directory, and skips such entries in a directory', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-fifo-'));
    execFileSync('mkfifo', [path.join(dir, 'pipe.yaml')]);
    await writeFile(path.join(dir, 'ok.yaml'), minimalPolicy('ok'));
    await expect(policyFiles([path.join(dir, 'pipe.yaml')])).rejects.toMatchObject({ code: 'POLICY_READ_ERROR' });
    expect(await policyFiles([dir])).toEqual([path.join(dir, 'ok.yaml')]);
  });
});
