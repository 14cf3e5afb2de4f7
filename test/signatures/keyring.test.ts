import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { Keyring, loadKeyring } from '../../src/signatures/keyring.js';
import type { GeneratedKey, GpgHome } from '../helpers/gpg.js';
import { exportSecretKey, generateKey, makeGpgHome } from '../helpers/gpg.js';

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('Keyring', () => {
  let home: GpgHome;
  let dir: string;
  let a: GeneratedKey;
  let b: GeneratedKey;

  beforeAll(async () => {
    home = await makeGpgHome();
    dir = await mkdtemp(path.join(tmpdir(), 'sg-keys-'));
    a = await generateKey(home, { name: 'Key A', email: 'a@example.invalid' });
    b = await generateKey(home, { name: 'Key B', email: 'b@example.invalid', subkey: true });
  });
  afterAll(async () => {
    await home?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every armor block of a file (two keys in two blocks, with text around them)', async () => {
    const file = path.join(dir, 'two-blocks.asc');
    await writeFile(file, `Two keys, as GitHub publishes web-flow:\n${a.publicKey}\n${b.publicKey}\ntrailer\n`);
    const ring = await loadKeyring([file]);
    expect(ring.size).toBe(2);
    expect(ring.findByFingerprint(a.fingerprint)).toMatchObject({ isSubkey: false, primaryFingerprint: a.fingerprint, keyId: a.keyId, source: file });
    expect(ring.findByFingerprint(b.fingerprint.toLowerCase())?.primaryFingerprint).toBe(b.fingerprint);
  });

  it('indexes subkeys by fingerprint and key id, pointing at their primary key', async () => {
    const ring = await Keyring.fromArmored([{ source: 'b.asc', armored: b.publicKey }]);
    const sub = ring.findByFingerprint(b.subkeyFingerprint as string);
    expect(sub).toMatchObject({ isSubkey: true, primaryFingerprint: b.fingerprint, fingerprint: b.subkeyFingerprint });
    expect(ring.findByKeyId((b.subkeyFingerprint as string).slice(-16))).toHaveLength(1);
    expect(ring.findByKeyId('0000000000000000')).toEqual([]);
  });

  it('reads binary (non-armored) key files', async () => {
    const file = path.join(dir, 'a.gpg');
    await writeFile(file, await home.run(['--export', a.fingerprint]));
    expect((await loadKeyring([file])).findByFingerprint(a.fingerprint)).toBeDefined();
  });

  it('names the file in clear errors', async () => {
    const bad = path.join(dir, 'bad.asc');
    await writeFile(bad, '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 !!\n-----END PGP PUBLIC KEY BLOCK-----\n');
    const e1 = await configError(loadKeyring([bad]));
    expect(e1.code).toBe('KEYRING_INVALID');
    expect(e1.message).toContain(bad);
    expect(e1.location?.file).toBe(bad);

    const text = path.join(dir, 'text.asc');
    await writeFile(text, 'hello\n');
    expect((await configError(loadKeyring([text]))).code).toBe('KEYRING_INVALID');

    const missing = path.join(dir, 'missing.asc');
    const e2 = await configError(loadKeyring([missing]));
    expect(e2.code).toBe('KEYRING_UNREADABLE');
    expect(e2.message).toContain(missing);
  });

  it('refuses private keys and duplicate keys', async () => {
    const secret = path.join(dir, 'secret.asc');
    await writeFile(secret, await exportSecretKey(home, a.fingerprint));
    const e = await configError(loadKeyring([secret]));
    expect(e.code).toBe('KEYRING_INVALID');
    expect(e.message).toMatch(/private key/);
    expect(e.message).not.toMatch(/BEGIN PGP PRIVATE/);

    const one = path.join(dir, 'one.asc');
    await writeFile(one, a.publicKey);
    expect((await configError(loadKeyring([one, one]))).code).toBe('KEYRING_DUPLICATE_KEY');
  });
});
