/** `syncgate verify-commit` with SSH trust: --allowed-signers and --ssh-revoked-keys (built CLI). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo, type TestRepo } from '../helpers/git.js';
import { type SshHome, type SshKey, allowedSignersLine, generateSshKey, makeSshHome, sshCommit, writeTextFile } from '../helpers/ssh.js';
import { REPO_ROOT, runCli } from './run-cli.js';

const EMAIL = 'committer@example.invalid';
const corpus = path.resolve(REPO_ROOT, '..', 'shared', 'corpus', 'signatures');

describe('syncgate verify-commit with SSH signatures', () => {
  let home: SshHome;
  let repo: TestRepo;
  let key: SshKey;
  let commit: string;
  let signers: string;

  beforeAll(async () => {
    home = await makeSshHome();
    repo = await makeRepo();
    key = await generateSshKey(home, 'ed25519', 'cli');
    commit = await sshCommit(repo, key);
    signers = await writeTextFile(home, 'allowed_signers', [`# team`, allowedSignersLine(EMAIL, key)]);
  });
  afterAll(async () => {
    await repo?.cleanup();
    await home?.cleanup();
  });

  it('verifies with --allowed-signers: exit 0, method ssh, signer fingerprint/keyType/principal', async () => {
    const { code, stdout } = await runCli(['verify-commit', '--repo', repo.dir, commit, '--allowed-signers', signers, '--output', 'json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      verified: true,
      revision: commit,
      type: 'commit',
      method: 'ssh',
      signer: { fingerprint: key.fingerprint, keyType: 'ssh-ed25519', principal: EMAIL },
      reason: null,
    });
    const text = await runCli(['verify-commit', '--repo', repo.dir, commit, '--allowed-signers', signers]);
    expect(text.stdout).toBe(`verified commit ${commit} (ssh) signed by ssh-ed25519 key ${key.fingerprint} for ${EMAIL}\n`);
  });

  it('--ssh-revoked-keys: exit 1 with KEY_REVOKED; without --allowed-signers it is a usage error (exit 2)', async () => {
    const revoked = await writeTextFile(home, 'revoked_keys', [key.publicKey]);
    const { code, stdout } = await runCli(['verify-commit', '--repo', repo.dir, commit, '--allowed-signers', signers, '--ssh-revoked-keys', revoked, '--output', 'json']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ verified: false, method: 'ssh', signer: null, reason: { code: 'KEY_REVOKED' } });
    expect((await runCli(['verify-commit', '--repo', repo.dir, commit, '--ssh-revoked-keys', revoked])).code).toBe(2);
  });

  it('a principal that is not the committer: exit 1 PRINCIPAL_MISMATCH; a bad allowed_signers line: exit 2 naming file and line', async () => {
    const other = await writeTextFile(home, 'other_signers', [allowedSignersLine('someone-else@example.invalid', key)]);
    const mismatch = await runCli(['verify-commit', '--repo', repo.dir, commit, '--allowed-signers', other, '--output', 'json']);
    expect(mismatch.code).toBe(1);
    expect(JSON.parse(mismatch.stdout).reason.code).toBe('PRINCIPAL_MISMATCH');
    const bad = await writeTextFile(home, 'bad_signers', [allowedSignersLine(EMAIL, key), `${EMAIL} namespaces=git ${key.publicKey}`]);
    const broken = await runCli(['verify-commit', '--repo', repo.dir, commit, '--allowed-signers', bad]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`${bad}:2`);
  });

  it('takes allowedSigners (relative to the config file) and per-rule ssh principals from --config', async () => {
    const config = await writeTextFile(home, 'syncgate.yaml', [
      'trust:',
      '  allowedSigners: [allowed_signers]',
      '  rules:',
      "    - repositories: ['github.com/acme/*']",
      "      ssh: { principals: ['*@example.invalid'], anyAllowedSigner: false }",
      "    - repositories: ['**']",
      "      ssh: { principals: ['nobody@example.invalid'] }",
    ]);
    const ok = await runCli(['verify-commit', '--repo', repo.dir, commit, '--config', config, '--repository', 'https://github.com/acme/app', '--output', 'json'], { cwd: '/' });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).signer.principal).toBe(EMAIL);
    const denied = await runCli(['verify-commit', '--repo', repo.dir, commit, '--config', config, '--repository', 'github.com/other/app', '--output', 'json'], { cwd: '/' });
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout).reason.code).toBe('KEY_NOT_ALLOWED');
  });

  it.skipIf(!existsSync(corpus))('reports the FIDO flags and counter of a real sk-ecdsa commit (corpus)', async () => {
    const object = path.join(corpus, 'commits', 'b2702de944295b530ede4b27b291a2c2a188d76f.commit');
    const { code, stdout } = await runCli(['verify-commit', '--object', object, '--allowed-signers', path.join(corpus, 'keys', 'ssh-allowed_signers'), '--output', 'json']);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.signer).toMatchObject({ keyType: 'sk-ecdsa-sha2-nistp256@openssh.com', principal: 'robin@isometry.net', fingerprint: 'SHA256:vbmQ/WRtM8jWCD3eF8GYs/9aAn4gXbC2kEmb230FVXA' });
    expect(out.signer.flags & 1).toBe(1);
    expect(out.signer.counter).toBeTypeOf('number');
  });
});
