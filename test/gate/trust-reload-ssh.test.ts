/**
 * Reloading SSH trust without a restart: watchTrustFiles notices a changed allowed-signers file
 * (also through a ConfigMap-style symlink swap), reloadSshTrust takes a valid new file and keeps the
 * last good one (reported) when the new one is bad; cached outcomes are dropped on reload.
 */
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrustConfig } from '../../src/config/trust.js';
import { loadTrustMaterial, reloadSshTrust } from '../../src/gate/trust-material.js';
import { trustFilePaths, watchTrustFiles } from '../../src/gate/trust-watch.js';
import { catFile, makeRepo, type TestRepo } from '../helpers/git.js';
import { type SshHome, type SshKey, allowedSignersLine, generateSshKey, makeSshHome, sshCommit } from '../helpers/ssh.js';

const EMAIL = 'committer@example.invalid';

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SSH trust reload', () => {
  let home: SshHome;
  let repo: TestRepo;
  let alice: SshKey;
  let bob: SshKey;
  let raw: Buffer;

  beforeAll(async () => {
    home = await makeSshHome();
    repo = await makeRepo();
    alice = await generateSshKey(home, 'ed25519', 'alice');
    bob = await generateSshKey(home, 'ecdsa-256', 'bob');
    raw = await catFile(repo, await sshCommit(repo, bob));
  });
  afterAll(async () => {
    await repo?.cleanup();
    await home?.cleanup();
  });

  const trustFor = (allowedSigners: string, revoked?: string): TrustConfig => ({
    keyrings: [],
    allowedSigners: [allowedSigners],
    ...(revoked ? { sshRevokedKeys: [revoked] } : {}),
    rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, ssh: { principals: [], anyAllowedSigner: true, requireCommitterMatch: true, windowAt: 'now' } }],
  });

  it('a valid change is used from the next decision on; a bad one keeps the last good and says where it is wrong', async () => {
    const file = path.join(home.dir, 'signers-1');
    const revoked = path.join(home.dir, 'revoked-1');
    await writeFile(file, `${allowedSignersLine(EMAIL, alice)}\n`);
    await writeFile(revoked, '');
    const verifier = await loadTrustMaterial(trustFor(file, revoked));
    expect((await verifier.verifyObject({ raw, kind: 'commit' })).reason?.code).toBe('UNKNOWN_KEY');
    expect(await reloadSshTrust(verifier)).toMatchObject({ status: 'unchanged' });

    await writeFile(file, `${allowedSignersLine(EMAIL, alice)}\n${allowedSignersLine(EMAIL, bob)}\n`);
    expect(await reloadSshTrust(verifier)).toMatchObject({ status: 'reloaded', files: [file, revoked] });
    expect((await verifier.verifyObject({ raw, kind: 'commit' })).verified).toBe(true);

    await writeFile(file, `${allowedSignersLine(EMAIL, bob)}\nbroken line here\n`);
    const kept = await reloadSshTrust(verifier);
    expect(kept).toMatchObject({ status: 'kept-last-good', error: { code: 'ALLOWED_SIGNERS_INVALID', location: { file, line: 2 } } });
    expect((await verifier.verifyObject({ raw, kind: 'commit' })).verified).toBe(true);

    await writeFile(revoked, `${bob.publicKey}\n`);
    expect(await reloadSshTrust(verifier)).toMatchObject({ status: 'kept-last-good' });
    await writeFile(file, `${allowedSignersLine(EMAIL, bob)}\n`);
    expect(await reloadSshTrust(verifier)).toMatchObject({ status: 'reloaded' });
    expect((await verifier.verifyObject({ raw, kind: 'commit' })).reason?.code).toBe('KEY_REVOKED');
  });

  it('watchTrustFiles reports content changes, including a ConfigMap-style ..data symlink swap, and not mere touches', async () => {
    const dir = path.join(home.dir, 'configmap');
    await mkdir(path.join(dir, '..v1'), { recursive: true });
    await writeFile(path.join(dir, '..v1', 'allowed_signers'), `${allowedSignersLine(EMAIL, alice)}\n`);
    await symlink('..v1', path.join(dir, '..data'));
    await symlink(path.join('..data', 'allowed_signers'), path.join(dir, 'allowed_signers'));
    const file = path.join(dir, 'allowed_signers');
    expect(trustFilePaths(trustFor(file))).toEqual([file]);

    const seen: string[][] = [];
    const watcher = watchTrustFiles([file], (changed) => void seen.push(changed), { intervalMs: 100, debounceMs: 10 });
    try {
      await watcher.check();
      await writeFile(path.join(dir, '..v1', 'allowed_signers'), `${allowedSignersLine(EMAIL, alice)}\n`);
      await watcher.check();
      expect(seen).toEqual([]);

      await mkdir(path.join(dir, '..v2'));
      await writeFile(path.join(dir, '..v2', 'allowed_signers'), `${allowedSignersLine(EMAIL, bob)}\n`);
      await symlink('..v2', path.join(dir, '..data_tmp'));
      await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
      await until(() => seen.length > 0);
      expect(seen[0]).toEqual([file]);
    } finally {
      watcher.close();
    }
  });
});

describe('SSH trust reload racing a verification', () => {
  it('an outcome computed with the previous trust is never used: one fail-closed answer, then a fresh check', async () => {
    const home = await makeSshHome();
    const repo = await makeRepo();
    try {
      const key = await generateSshKey(home, 'ed25519', 'racer');
      const raw = await catFile(repo, await sshCommit(repo, key));
      const file = path.join(home.dir, 'signers');
      const revoked = path.join(home.dir, 'revoked');
      await writeFile(file, `${allowedSignersLine(EMAIL, key)}\n`);
      await writeFile(revoked, '');
      const { SshVerifier } = await import('../../src/signatures/ssh/index.js');
      const { SignatureVerifier } = await import('../../src/signatures/verify.js');
      const { Keyring } = await import('../../src/signatures/keyring.js');
      const ssh = await SshVerifier.load({ allowedSigners: [file], revokedKeys: [revoked] });
      const rules = [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, ssh: { principals: [], anyAllowedSigner: true, requireCommitterMatch: true, windowAt: 'now' as const } }];
      // A verifier that does not listen to reloads stands in for a check cached just after a reload.
      const stale = new SignatureVerifier({ keyring: new Keyring(), trust: { keyrings: [], rules }, methods: [ssh] });
      expect((await stale.verifyObject({ raw, kind: 'commit' })).verified).toBe(true);
      // Simulate the race: the reload's cache clearing comes before a stale outcome is cached.
      const clearCache = stale.clearCache.bind(stale);
      stale.clearCache = () => undefined;
      await writeFile(revoked, `${key.publicKey}\n`);
      expect(await ssh.reload()).toMatchObject({ status: 'reloaded' });
      expect(stale.cachedObjects).toBe(1);
      stale.clearCache = clearCache;
      const first = await stale.verifyObject({ raw, kind: 'commit' });
      expect(first).toMatchObject({ verified: false, reason: { code: 'VERIFICATION_ERROR' } });
      expect((await stale.verifyObject({ raw, kind: 'commit' })).reason?.code).toBe('KEY_REVOKED');
    } finally {
      await repo.cleanup();
      await home.cleanup();
    }
  });
});
