import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  SealingKeyring,
  formatPrivateKey,
  mergeInto,
  parsePrivateKey,
  reseal,
  sealSecret,
  sealedKeyIds,
  unsealSealedSecret,
  type SealedSecret,
} from '../../src/secrets/index.js';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromB64, keysAt, secretManifest, thrown } from './helpers.js';

const keyIdOf = (s: SealedSecret, dataKey: string): string | undefined => sealedKeyIds(s)[dataKey];

describe('keyring', () => {
  test('the newest key by creation time seals, regardless of load order', () => {
    const [old, mid, newest] = keysAt('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
    const ring = new SealingKeyring([mid!, newest!, old!]);
    expect(ring.active().keyId).toBe(newest!.keyId);
    expect(ring.keys().map((k) => k.keyId)).toEqual([newest!.keyId, mid!.keyId, old!.keyId]);
  });

  test('undated keys decrypt but never beat a dated one', () => {
    const undated = parsePrivateKey(generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'plain');
    const [dated] = keysAt('2020-01-01T00:00:00Z');
    const ring = new SealingKeyring([undated, dated!]);
    expect(ring.active().keyId).toBe(dated!.keyId);
    expect(new SealingKeyring([undated]).active().keyId).toBe(undated.keyId);
  });

  test('refuses to guess between two newest keys, and with none', () => {
    const [a, b] = keysAt('2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z');
    const err = thrown(() => new SealingKeyring([a!, b!]).active());
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('SEAL_AMBIGUOUS_ACTIVE_KEY');
    expect(thrown(() => new SealingKeyring().active()).code).toBe('SEAL_NO_KEYS');
  });

  test('the same key added twice is one key; add and remove change the active key', () => {
    const [old, next] = keysAt('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z');
    const ring = new SealingKeyring([old!]);
    ring.add(parsePrivateKey(formatPrivateKey(old!), 'again'));
    expect(ring.size).toBe(1);
    ring.add(next!);
    expect(ring.active().keyId).toBe(next!.keyId);
    expect(ring.remove(next!.keyId)).toBe(true);
    expect(ring.active().keyId).toBe(old!.keyId);
  });

  test('loads from files, naming a bad file in the error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'syncgate-ring-'));
    const [a, b] = keysAt('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z');
    await writeFile(join(dir, 'a.key'), formatPrivateKey(a!));
    await writeFile(join(dir, 'b.key'), formatPrivateKey(b!));
    await writeFile(join(dir, 'bad.key'), 'junk');
    const ring = await SealingKeyring.fromFiles([join(dir, 'a.key'), join(dir, 'b.key')]);
    expect(ring.active().keyId).toBe(b!.keyId);
    await expect(SealingKeyring.fromFiles([join(dir, 'a.key'), join(dir, 'bad.key')])).rejects.toThrow(join(dir, 'bad.key'));
  });
});

describe('rotation', () => {
  const [oldKey, newKey] = keysAt('2024-01-01T00:00:00Z', '2025-06-01T00:00:00Z');

  test('values sealed with an old key still unseal after a new key arrives; new ones use the new key', () => {
    const ring = new SealingKeyring([oldKey!]);
    const before = sealSecret(secretManifest(), ring.active());
    ring.add(newKey!);
    const after = sealSecret(secretManifest(), ring.active());
    expect(keyIdOf(before, 'password')).toBe(oldKey!.keyId);
    expect(keyIdOf(after, 'password')).toBe(newKey!.keyId);
    expect(fromB64(unsealSealedSecret(before, ring).data.password).toString()).toBe('hunter2-plaintext');
    expect(fromB64(unsealSealedSecret(after, ring).data.password).toString()).toBe('hunter2-plaintext');
  });

  test('one object may mix keys', () => {
    const ring = new SealingKeyring([oldKey!, newKey!]);
    const s = sealSecret(secretManifest(), oldKey!);
    const merged = mergeInto(s, { token: 'new-token' }, ring.active());
    expect(keyIdOf(merged, 'password')).toBe(oldKey!.keyId);
    expect(keyIdOf(merged, 'token')).toBe(newKey!.keyId);
    expect(Object.keys(unsealSealedSecret(merged, ring).data).sort()).toEqual(['password', 'token', 'username']);
  });

  test('reseal moves every value to the newest key, keeps the rest of the object, leaves current values alone', () => {
    const ring = new SealingKeyring([oldKey!, newKey!]);
    const s = sealSecret(secretManifest(), oldKey!) as SealedSecret & { metadata: { annotations?: Record<string, string> } };
    s.metadata.annotations = { 'argocd.argoproj.io/sync-wave': '1' };
    s.spec.encryptedData.username = mergeInto(s, { username: 'app' }, newKey!).spec.encryptedData.username!;
    const out = reseal(s, ring);
    expect(keyIdOf(out, 'password')).toBe(newKey!.keyId);
    expect(out.spec.encryptedData.username).toBe(s.spec.encryptedData.username);
    expect(out.metadata).toEqual(s.metadata);
    expect(out.spec.template).toEqual(s.spec.template);
    expect(unsealSealedSecret(out, new SealingKeyring([newKey!])).data).toEqual(unsealSealedSecret(s, ring).data);
    expect(keyIdOf(s, 'password')).toBe(oldKey!.keyId); // input untouched
  });

  test('reseal refuses a value that does not open, rather than dropping it', () => {
    const ring = new SealingKeyring([oldKey!, newKey!]);
    const s = sealSecret(secretManifest(), oldKey!);
    s.spec.encryptedData.username = s.spec.encryptedData.password!;
    expect(thrown(() => reseal(s, ring)).code).toBe('SEAL_SCOPE_MISMATCH');
  });
});

describe('mergeInto', () => {
  const [key] = keysAt('2025-01-01T00:00:00Z');
  const ring = new SealingKeyring([key!]);

  test('adds and replaces only the given keys, sealed for the existing object', () => {
    const s = sealSecret(secretManifest(), key!, { scope: 'namespace-wide' });
    const out = mergeInto(s, { password: 'rotated', 'api.key': Buffer.from([0, 1, 2]) }, key!);
    expect(out.spec.encryptedData.username).toBe(s.spec.encryptedData.username);
    expect(out.spec.encryptedData.password).not.toBe(s.spec.encryptedData.password);
    const secret = unsealSealedSecret(out, ring);
    expect(fromB64(secret.data.password).toString()).toBe('rotated');
    expect(fromB64(secret.data['api.key'])).toEqual(Buffer.from([0, 1, 2]));
    expect(fromB64(secret.data.username).toString()).toBe('app');
  });

  test('takes a Secret manifest and checks it targets the same object and type', () => {
    const s = sealSecret(secretManifest(), key!);
    const out = mergeInto(s, secretManifest({ stringData: { extra: 'e' } }), key!);
    expect(fromB64(unsealSealedSecret(out, ring).data.extra).toString()).toBe('e');
    const noMeta = { apiVersion: 'v1', kind: 'Secret', stringData: { extra: 'e' } };
    expect(fromB64(unsealSealedSecret(mergeInto(s, noMeta, key!), ring).data.extra).toString()).toBe('e');
    expect(thrown(() => mergeInto(s, secretManifest({}, { name: 'other' }), key!)).code).toBe('SEAL_MERGE_MISMATCH');
    expect(thrown(() => mergeInto(s, secretManifest({}, { namespace: 'other' }), key!)).code).toBe('SEAL_MERGE_MISMATCH');
    expect(thrown(() => mergeInto(s, secretManifest({ type: 'kubernetes.io/tls' }), key!)).code).toBe('SEAL_MERGE_MISMATCH');
  });

  test('refuses bad keys, bad values, empty input and a malformed existing object', () => {
    const s = sealSecret(secretManifest(), key!);
    expect(thrown(() => mergeInto(s, { 'a/b': 'x' }, key!)).code).toBe('SEAL_INVALID_SECRET');
    expect(thrown(() => mergeInto(s, { a: 42 } as never, key!)).code).toBe('SEAL_INVALID_SECRET');
    expect(thrown(() => mergeInto(s, {}, key!)).code).toBe('SEAL_EMPTY_SECRET');
    expect(thrown(() => mergeInto({ kind: 'SealedSecret' }, { a: 'x' }, key!)).code).toBe('SEAL_INVALID_SEALED_SECRET');
  });
});

test('sealedKeyIds lists the key each value depends on', () => {
  const [a, b] = keysAt('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z');
  const s = mergeInto(sealSecret(secretManifest(), a!), { password: 'p' }, b!);
  expect(sealedKeyIds(s)).toEqual({ password: b!.keyId, username: a!.keyId });
});
