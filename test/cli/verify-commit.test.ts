import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catFile, commit, makeRepo, tag, type TestRepo } from '../helpers/git.js';
import { generateKey, makeGpgHome, type GeneratedKey, type GpgHome } from '../helpers/gpg.js';
import { runCli } from './run-cli.js';

describe('syncgate verify-commit', () => {
  let gpg: GpgHome;
  let alice: GeneratedKey;
  let stranger: GeneratedKey;
  let repo: TestRepo;
  let dir: string;
  let keyring: string;
  let base: string;
  let good: string;
  let unknown: string;
  let unsigned: string;

  beforeAll(async () => {
    gpg = await makeGpgHome();
    alice = await generateKey(gpg, { name: 'Alice', email: 'alice@example.invalid' });
    stranger = await generateKey(gpg, { name: 'Stranger', email: 'stranger@example.invalid' });
    repo = await makeRepo({ gpg });
    base = await commit(repo, { sign: alice.fingerprint });
    good = await commit(repo, { sign: alice.fingerprint });
    unknown = await commit(repo, { sign: stranger.fingerprint });
    unsigned = await commit(repo, {});
    dir = await mkdtemp(path.join(tmpdir(), 'syncgate-cli-'));
    keyring = path.join(dir, 'alice.asc');
    await writeFile(keyring, alice.publicKey);
  });
  afterAll(async () => {
    await repo?.cleanup();
    await gpg?.cleanup();
  });

  it('verifies a commit in a repository: exit 0 and the JSON contract', async () => {
    const { code, stdout } = await runCli(['verify-commit', '--repo', repo.dir, good, '--keyring', keyring, '--output', 'json']);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ verified: true, revision: good, method: 'openpgp', reason: null });
    expect(out.signer).toMatchObject({ fingerprint: alice.fingerprint, keyId: alice.keyId, userIds: ['Alice <alice@example.invalid>'] });
    expect(Date.parse(out.signer.signedAt)).not.toBeNaN();
  });

  it('reports an unknown key: exit 1 with UNKNOWN_KEY', async () => {
    const { code, stdout } = await runCli(['verify-commit', '--repo', repo.dir, unknown, '--keyring', keyring, '--output', 'json']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ verified: false, signer: null, reason: { code: 'UNKNOWN_KEY' } });
  });

  it('prints one text line per result', async () => {
    const { code, stdout } = await runCli(['verify-commit', '--repo', repo.dir, unsigned, '--keyring', keyring]);
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`^NOT verified commit ${unsigned}: UNSIGNED: \\S.*\\n$`));
  });

  it('checks every commit of a range and summarises', async () => {
    const { code, stdout } = await runCli(['verify-commit', '--repo', repo.dir, '--range', `${base}..${unsigned}`, '--keyring', keyring, '--output', 'json']);
    expect(code).toBe(1);
    const out = JSON.parse(stdout);
    expect(out.summary).toEqual({ total: 3, verified: 1, notVerified: 2 });
    expect(out.commits.map((c: { revision: string }) => c.revision)).toEqual([unsigned, unknown, good]);
    const ok = await runCli(['verify-commit', '--repo', repo.dir, '--range', `${base}..${good}`, '--keyring', keyring]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('1/1 commits verified');
  });

  it('verifies a signed annotated tag named as the revision', async () => {
    const tagId = await tag(repo, 'v1', { sign: alice.fingerprint, target: good });
    const { code, stdout } = await runCli(['verify-commit', '--repo', repo.dir, 'v1', '--keyring', keyring, '--output', 'json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ verified: true, type: 'tag', revision: tagId });
  });

  it('verifies an object file and checks --revision', async () => {
    const file = path.join(dir, 'good.commit');
    await writeFile(file, await catFile(repo, good));
    expect((await runCli(['verify-commit', '--object', file, '--revision', good, '--keyring', keyring])).code).toBe(0);
    const mismatch = await runCli(['verify-commit', '--object', file, '--revision', unknown, '--keyring', keyring, '--output', 'json']);
    expect(mismatch.code).toBe(1);
    expect(JSON.parse(mismatch.stdout).reason.code).toBe('REVISION_MISMATCH');
  });

  it('takes the trust policy from --config (a key outside the rule is KEY_NOT_ALLOWED)', async () => {
    const both = path.join(dir, 'both.asc');
    await writeFile(both, alice.publicKey + stranger.publicKey);
    const config = path.join(dir, 'syncgate.yaml');
    await writeFile(config, `trust:\n  keyrings: [${both}]\n  rules:\n    - repositories: ['**']\n      openpgp: {fingerprints: ['${alice.fingerprint}']}\n`);
    expect((await runCli(['verify-commit', '--repo', repo.dir, good, '--config', config])).code).toBe(0);
    const denied = await runCli(['verify-commit', '--repo', repo.dir, unknown, '--config', config, '--output', 'json']);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout).reason.code).toBe('KEY_NOT_ALLOWED');
  });

  it('exits 2 on usage and input errors', async () => {
    const noTrust = await runCli(['verify-commit', '--repo', repo.dir, good]);
    expect(noTrust.code).toBe(2);
    expect(noTrust.stderr).toContain('NO_TRUST_MATERIAL');
    expect((await runCli(['verify-commit', '--repo', '/nonexistent', '--keyring', keyring])).code).toBe(2);
    expect((await runCli(['verify-commit', '--repo', repo.dir, 'no-such-rev', '--keyring', keyring])).code).toBe(2);
    expect((await runCli(['verify-commit', '--object', path.join(dir, 'missing'), '--keyring', keyring])).code).toBe(2);
    expect((await runCli(['verify-commit', '--bogus-flag'])).code).toBe(2);
    expect((await runCli(['verify-commit', '--repo', repo.dir, good, '--keyring', path.join(dir, 'missing.asc')])).code).toBe(2);
  });
});
