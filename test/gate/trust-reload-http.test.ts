import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catFile, commit, makeRepo, type TestRepo } from '../helpers/git.js';
import { generateKey, makeGpgHome, type GeneratedKey, type GpgHome } from '../helpers/gpg.js';
import { startTestGate, type TestGate } from '../server/harness.js';

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

describe('trust files change on disk: the gate reloads them without a restart', () => {
  let gpg: GpgHome;
  let alice: GeneratedKey;
  let bob: GeneratedKey;
  let repo: TestRepo;
  let gate: TestGate;
  let keyring: string;
  let byBob: { revision: string; commit: string };

  beforeAll(async () => {
    gpg = await makeGpgHome();
    alice = await generateKey(gpg, { name: 'Alice', email: 'alice@example.invalid' });
    bob = await generateKey(gpg, { name: 'Bob', email: 'bob@example.invalid' });
    repo = await makeRepo({ gpg });
    const id = await commit(repo, { sign: bob.fingerprint });
    byBob = { revision: id, commit: (await catFile(repo, id)).toString('utf8') };
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-trust-reload-'));
    keyring = path.join(dir, 'team.asc');
    await writeFile(keyring, alice.publicKey);
    gate = await startTestGate({ trust: { keyrings: [keyring], rules: [{ repositories: ['**'], openpgp: { anyTrustedKey: true } }] } });
  });
  afterAll(async () => {
    await gate?.close();
    await repo?.cleanup();
    await gpg?.cleanup();
  });

  const decide = () => gate.post({ ...byBob, manifests: [] });
  const reloads = async () => (await gate.records()).filter((r) => r.type === 'keys.reload');

  it('a key added to the keyring file is trusted after the reload; a broken file keeps the last good set', async () => {
    expect((await decide()).json.reasons).toEqual([expect.objectContaining({ code: 'UNKNOWN_KEY' })]);

    await writeFile(keyring, alice.publicKey + bob.publicKey);
    await waitFor(async () => (await reloads()).some((r) => r.ok === true));
    expect((await decide()).status).toBe(200);

    await writeFile(keyring, '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n');
    await waitFor(async () => (await reloads()).some((r) => r.ok === false));
    const failed = (await reloads()).find((r) => r.ok === false)!;
    expect(failed.error).toMatchObject({ code: expect.stringMatching(/^KEYRING_/) });
    expect((await decide()).status).toBe(200);
    expect((await fetch(`${gate.url}/readyz`)).status).toBe(200);
  });
});
