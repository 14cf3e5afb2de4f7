/**
 * syncgate verify-commit for gitsign signatures: --trusted-root, --identity (repeatable),
 * --rekor-url; the JSON signer shape {issuer, subject, rekorLogIndex, integratedTime,
 * certificateFingerprint}; exit codes 0 / 1 / 2. The signed commit is stored in a real git
 * repository (git hash-object) and read back through it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo, writeObject, type TestRepo } from '../helpers/git.js';
import { TestSigstore, commitPayload, signGitsign, signedCommit } from '../helpers/gitsign.js';
import { runCli } from './run-cli.js';

const ISSUER = 'https://accounts.example.com';

describe('syncgate verify-commit (gitsign)', () => {
  let dir: string;
  let repo: TestRepo;
  let root: string;
  let good: string;
  let online: string;
  let objectFile: string;

  beforeAll(async () => {
    const sigstore = new TestSigstore();
    dir = await mkdtemp(path.join(tmpdir(), 'syncgate-cli-gitsign-'));
    root = path.join(dir, 'trusted_root.json');
    await writeFile(root, sigstore.trustedRoot());
    repo = await makeRepo();
    const payload = commitPayload();
    const raw = signedCommit(payload, await signGitsign(payload, { leaf: sigstore.leaf(), rekor: { sigstore } }));
    good = await writeObject(repo, 'commit', raw);
    objectFile = path.join(dir, 'good.commit');
    await writeFile(objectFile, raw);
    const payload2 = commitPayload('online mode\n');
    online = await writeObject(repo, 'commit', signedCommit(payload2, await signGitsign(payload2, { leaf: sigstore.leaf(), rekor: 'none' })));
  });
  afterAll(async () => {
    await repo?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('verifies with --trusted-root and --identity: exit 0 and the gitsign signer in JSON', async () => {
    const { code, stdout, stderr } = await runCli(['verify-commit', '--repo', repo.dir, good, '--trusted-root', root, '--identity', `${ISSUER}=alice@example\\.com`, '--output', 'json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ verified: true, revision: good, method: 'gitsign', reason: null });
    expect(Object.keys(out.signer).sort()).toEqual(['certificateFingerprint', 'integratedTime', 'issuer', 'rekorLogIndex', 'subject']);
    expect(out.signer).toMatchObject({ issuer: ISSUER, subject: 'alice@example.com', integratedTime: '2026-06-01T12:01:00.000Z' });
  });

  it('--object with --revision works the same, and the text output names the identity', async () => {
    const { code, stdout } = await runCli(['verify-commit', '--object', objectFile, '--revision', good, '--trusted-root', root, '--identity', `${ISSUER}=.*`]);
    expect(code).toBe(0);
    expect(stdout).toContain('signed by alice@example.com (issuer https://accounts.example.com), Rekor entry');
  });

  it('another identity: exit 1 IDENTITY_NOT_ALLOWED; the first matching --identity of several admits', async () => {
    const denied = await runCli(['verify-commit', '--repo', repo.dir, good, '--trusted-root', root, '--identity', `${ISSUER}=bob@example\\.com`, '--output', 'json']);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout).reason.code).toBe('IDENTITY_NOT_ALLOWED');
    const two = await runCli(['verify-commit', '--repo', repo.dir, good, '--trusted-root', root, '--identity', `${ISSUER}=bob@example\\.com`, '--identity', `${ISSUER}=alice@example\\.com`]);
    expect(two.code).toBe(0);
  });

  it('an online-mode commit without --rekor-url: exit 1 REKOR_ENTRY_MISSING; an unreachable Rekor: REKOR_LOOKUP_FAILED', async () => {
    const missing = await runCli(['verify-commit', '--repo', repo.dir, online, '--trusted-root', root, '--identity', `${ISSUER}=.*`, '--output', 'json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).reason.code).toBe('REKOR_ENTRY_MISSING');
    const down = await runCli(['verify-commit', '--repo', repo.dir, online, '--trusted-root', root, '--identity', `${ISSUER}=.*`, '--rekor-url', 'http://127.0.0.1:9', '--output', 'json']);
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout).reason.code).toBe('REKOR_LOOKUP_FAILED');
  });

  it('usage errors exit 2: --trusted-root without --identity, a bad --identity, a broken trusted root', async () => {
    expect((await runCli(['verify-commit', '--repo', repo.dir, good, '--trusted-root', root])).code).toBe(2);
    expect((await runCli(['verify-commit', '--repo', repo.dir, good, '--trusted-root', root, '--identity', 'no-equals-sign'])).code).toBe(2);
    expect((await runCli(['verify-commit', '--repo', repo.dir, good, '--trusted-root', root, '--identity', `${ISSUER}=(`])).code).toBe(2);
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{}]}');
    const bad = await runCli(['verify-commit', '--repo', repo.dir, good, '--trusted-root', broken, '--identity', `${ISSUER}=.*`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TRUSTED_ROOT_INVALID');
  });
});
