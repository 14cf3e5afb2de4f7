import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  formatPrivateKey,
  formatPublicKey,
  generateSealingKey,
  parsePrivateKey,
  parsePublicKey,
  readPrivateKeyFile,
  readPublicKeyFile,
  writeKeyFiles,
} from '../../src/secrets/index.js';
import { keyIdOf } from '../../src/secrets/keys.js';
import { createHash } from 'node:crypto';
import { rejected, thrown } from './helpers.js';

const CREATED = new Date('2025-03-01T12:00:00.000Z');

function pemBody(text: string): string {
  return text.replace(/^#.*\n/gm, '').replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, '');
}

describe('sealing key files', () => {
  test('key id is the first 8 bytes of SHA-256 of the raw public key', () => {
    const key = generateSealingKey(CREATED);
    expect(key.keyId).toBe(createHash('sha256').update(key.raw).digest().subarray(0, 8).toString('hex'));
    expect(key.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(keyIdOf(key.raw)).toString('hex')).toBe(key.keyId);
  });

  test('private and public key text round-trip with id and creation time', () => {
    const key = generateSealingKey(CREATED);
    const priv = formatPrivateKey(key);
    expect(priv).toContain(`# key-id: ${key.keyId}`);
    expect(priv).toContain('# created: 2025-03-01T12:00:00.000Z');
    expect(priv).toContain('-----BEGIN PRIVATE KEY-----');
    const back = parsePrivateKey(priv, 'mem');
    expect(back.keyId).toBe(key.keyId);
    expect(back.created).toEqual(CREATED);
    const pub = parsePublicKey(formatPublicKey(key), 'mem');
    expect(pub.keyId).toBe(key.keyId);
    expect(pub.created).toEqual(CREATED);
    expect(Buffer.from(pub.raw)).toEqual(Buffer.from(key.raw));
  });

  test('a plain PEM key without headers (as openssl makes it) loads, undated', () => {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    const key = parsePrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'plain.pem');
    expect(key.created).toBeUndefined();
    expect(parsePublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'plain.pub').keyId).toBe(key.keyId);
  });

  test('writes files (private key 0600), never overwrites, reads them back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'syncgate-keys-'));
    const key = generateSealingKey(CREATED);
    const { privateKeyPath, publicKeyPath } = await writeKeyFiles(key, dir);
    expect(privateKeyPath).toBe(join(dir, `sealing-${key.keyId}.key`));
    expect((await stat(privateKeyPath)).mode & 0o777).toBe(0o600);
    expect((await readPrivateKeyFile(privateKeyPath)).keyId).toBe(key.keyId);
    expect((await readPublicKeyFile(publicKeyPath)).keyId).toBe(key.keyId);
    await expect(writeKeyFiles(key, dir)).rejects.toThrow(/EEXIST/);
  });

  test('loading errors are typed ConfigErrors that name the file and never print key bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'syncgate-keys-'));
    const key = generateSealingKey(CREATED);
    const privText = formatPrivateKey(key);
    const secretBody = pemBody(privText);

    const missing = await rejected(() => readPrivateKeyFile(join(dir, 'nope.key')));
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.code).toBe('SEAL_KEY_READ_FAILED');
    expect(missing.message).toContain(join(dir, 'nope.key'));

    const cases: [string, string, string][] = [
      ['garbage.key', 'not a key at all', 'SEAL_KEY_INVALID'],
      ['pub-as-priv.key', formatPublicKey(key), 'SEAL_KEY_INVALID'],
      ['bad-der.key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'SEAL_KEY_INVALID'],
      ['ed25519.key', generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'SEAL_KEY_INVALID'],
      ['two.key', privText + privText, 'SEAL_KEY_INVALID'],
      ['wrong-id.key', privText.replace(key.keyId, '0000000000000000'), 'SEAL_KEY_ID_MISMATCH'],
      ['bad-date.key', privText.replace('2025-03-01T12:00:00.000Z', 'yesterday'), 'SEAL_KEY_INVALID'],
    ];
    for (const [name, text, code] of cases) {
      const path = join(dir, name);
      await writeFile(path, text);
      const err = await rejected(() => readPrivateKeyFile(path));
      expect(err, name).toBeInstanceOf(ConfigError);
      expect(err.code, name).toBe(code);
      expect(err.message, name).toContain(path);
      expect(err.location?.file).toBe(path);
      expect(err.message).not.toContain(secretBody.slice(20, 40));
    }
  });

  test('giving a private key where a public key is expected is refused with a hint', () => {
    const key = generateSealingKey(CREATED);
    const err = thrown(() => parsePublicKey(formatPrivateKey(key), 'key.pem'));
    expect(err.message).toMatch(/private key; give the public key file/);
    expect(err.message).not.toContain(pemBody(formatPrivateKey(key)).slice(10, 30));
  });

  test('inspecting or serialising a key shows its id, not its bytes', () => {
    const key = generateSealingKey(CREATED);
    const body = pemBody(formatPrivateKey(key));
    for (const shown of [inspect(key), JSON.stringify(key), inspect({ nested: key }, { depth: 5 })]) {
      expect(shown).toContain(key.keyId);
      expect(shown).not.toContain(body.slice(-20));
    }
  });
});
