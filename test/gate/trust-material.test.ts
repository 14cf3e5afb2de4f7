/**
 * loadTrustMaterial loads the gitsign (Sigstore) code only when trust.trustedRoot is set and the
 * SSH code only when SSH trust files are named; without them such signatures are still denied
 * with the reason they always had (TRUSTED_ROOT_MISSING, UNKNOWN_KEY), by the real verifier
 * loaded on the first one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TrustConfig } from '../../src/config/trust.js';
import { loadTrustMaterial, reloadSshTrust, reloadTrustedRoot } from '../../src/gate/trust-material.js';
import { catFile, makeRepo, type TestRepo } from '../helpers/git.js';
import { NOW, TestSigstore, commitPayload, signGitsign, signedCommit } from '../helpers/gitsign.js';
import { type SshHome, generateSshKey, makeSshHome, sshCommit } from '../helpers/ssh.js';

const RULE = { repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] } };
const trust = (extra: Partial<TrustConfig> = {}): TrustConfig => ({ keyrings: [], rules: [RULE], ...extra });

describe('trust material: verifiers the configuration gives nothing to verify with', () => {
  let home: SshHome;
  let repo: TestRepo;
  let dir: string;
  let sigstore: TestSigstore;
  let sshRaw: Buffer;
  let gitsignRaw: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'syncgate-trust-material-'));
    home = await makeSshHome();
    repo = await makeRepo();
    sshRaw = await catFile(repo, await sshCommit(repo, await generateSshKey(home, 'ed25519', 'alice')));
    sigstore = new TestSigstore();
    const payload = commitPayload();
    gitsignRaw = signedCommit(payload, await signGitsign(payload, { leaf: sigstore.leaf(), rekor: { sigstore } }));
  });
  afterAll(async () => {
    await repo?.cleanup();
    await home?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without trust.trustedRoot a gitsign signature is TRUSTED_ROOT_MISSING, and there is no root to reload', async () => {
    const verifier = await loadTrustMaterial(trust());
    const result = await verifier.verifyObject({ raw: gitsignRaw, kind: 'commit', now: NOW });
    expect(result).toMatchObject({ verified: false, method: 'gitsign', reason: { code: 'TRUSTED_ROOT_MISSING' } });
    expect(await reloadTrustedRoot(verifier)).toBeUndefined();
  });

  it('without SSH trust files an SSH signature is UNKNOWN_KEY, and there is nothing to reload', async () => {
    const verifier = await loadTrustMaterial(trust());
    const result = await verifier.verifyObject({ raw: sshRaw, kind: 'commit' });
    expect(result).toMatchObject({ verified: false, method: 'ssh', reason: { code: 'UNKNOWN_KEY' } });
    expect(await reloadSshTrust(verifier)).toBeUndefined();
  });

  it('with a trusted root the gitsign verifier is loaded up front: the root is read (and reloadable) before any signature', async () => {
    const file = path.join(dir, 'trusted_root.json');
    writeFileSync(file, sigstore.trustedRoot());
    const verifier = await loadTrustMaterial(trust({ trustedRoot: file }));
    expect(await reloadTrustedRoot(verifier)).toMatchObject({ status: 'unchanged' });
    writeFileSync(file, '{ not json');
    await expect(loadTrustMaterial(trust({ trustedRoot: file }))).rejects.toMatchObject({ code: 'TRUSTED_ROOT_INVALID' });
  });

  it('with SSH trust files the SSH verifier is loaded up front: a bad file stops the load', async () => {
    const file = path.join(dir, 'allowed_signers');
    writeFileSync(file, 'not an allowed signers line\n');
    await expect(loadTrustMaterial(trust({ allowedSigners: [file] }))).rejects.toMatchObject({ code: 'ALLOWED_SIGNERS_INVALID' });
    writeFileSync(file, '');
    const verifier = await loadTrustMaterial(trust({ allowedSigners: [file] }));
    expect(await reloadSshTrust(verifier)).toMatchObject({ status: 'unchanged' });
    expect((await verifier.verifyObject({ raw: sshRaw, kind: 'commit' })).reason?.code).toBe('UNKNOWN_KEY');
  });
});
