import { generateKeyPairSync, constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import {
  SealingKeyring,
  checkSealedSecret,
  generateSealingKey,
  mergeInto,
  reseal,
  sealSecret,
  sealValue,
  unsealBitnamiSealedSecret,
  unsealSealedSecret,
  type SealedSecret,
} from '../../src/secrets/index.js';
import { b64, secretManifest } from './helpers.js';

const PLAINTEXTS = ['Pl41ntext-Marker-0001', 'Pl41ntext-Marker-0002-not!base64', 'Pl41ntext-Marker-0003'];

/** Every spelling of a plaintext that could leak: raw, base64, hex, and a JSON-escaped copy. */
function spellings(p: string): string[] {
  return [p, b64(p), Buffer.from(p).toString('hex'), JSON.stringify(p).slice(1, -1), b64(p).slice(4, 20)];
}

function everythingAbout(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    parts.push(String(e), inspect(e, { depth: 6 }), JSON.stringify(e) ?? '');
    if (e instanceof Error) parts.push(e.stack ?? '');
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join('\n');
}

function capture(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('no plaintext in any error', () => {
  const key = generateSealingKey(new Date('2025-01-01T00:00:00Z'));
  const other = generateSealingKey(new Date('2026-01-01T00:00:00Z'));
  const ring = new SealingKeyring([key]);
  const manifest = (extra: Record<string, unknown> = {}) =>
    secretManifest({ stringData: { a: PLAINTEXTS[0] }, data: { b: b64(PLAINTEXTS[2]!) }, ...extra });
  const sealed = (): SealedSecret => sealSecret(manifest(), key);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

  const failures: [string, () => unknown][] = [
    ['bad base64 in data (the value itself)', () => sealSecret(manifest({ data: { b: PLAINTEXTS[1] } }), key)],
    ['non-string stringData', () => sealSecret(manifest({ stringData: { a: { v: PLAINTEXTS[0] } } }), key)],
    ['unknown field beside plaintext', () => sealSecret(manifest({ extra: PLAINTEXTS[0] }), key)],
    ['bad name beside plaintext', () => sealSecret(manifest({ metadata: { name: 'BAD', namespace: 'x' } }), key)],
    ['too large value', () => sealSecret(manifest({ stringData: { a: PLAINTEXTS[0]!.repeat(60_000) } }), key)],
    ['not a Secret, holding plaintext', () => sealSecret({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: PLAINTEXTS[0] } }, key)],
    ['raw value with bad key', () => sealValue(PLAINTEXTS[0]!, key, { scope: 'strict', namespace: 'n', name: 'x', dataKey: 'no/slash' })],
    ['value moved between keys', () => {
      const s = sealed();
      s.spec.encryptedData.a = s.spec.encryptedData.b!;
      return unsealSealedSecret(s, ring);
    }],
    ['value moved to another object', () => {
      const s = sealed();
      s.metadata.name = 'moved';
      return unsealSealedSecret(s, ring);
    }],
    ['tampered value', () => {
      const s = sealed();
      const bytes = Buffer.from(s.spec.encryptedData.a!, 'base64');
      bytes[bytes.length - 1]! ^= 1;
      s.spec.encryptedData.a = bytes.toString('base64');
      return unsealSealedSecret(s, ring);
    }],
    ['unknown key', () => unsealSealedSecret(sealSecret(manifest(), other), ring)],
    ['merge mismatch', () => mergeInto(sealed(), secretManifest({ stringData: { c: PLAINTEXTS[0] } }, { name: 'other' }), key)],
    ['merge bad key', () => mergeInto(sealed(), { 'x/y': PLAINTEXTS[0]! }, key)],
    ['reseal of a moved value', () => {
      const s = sealed();
      s.spec.encryptedData.a = s.spec.encryptedData.b!;
      return reseal(s, new SealingKeyring([key, other]));
    }],
    ['Bitnami value for another object', () => {
      const sessionKey = randomBytes(32);
      const rsaCt = publicEncrypt({ key: rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('ns/other') }, sessionKey);
      const c = createCipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
      const body = Buffer.concat([c.update(PLAINTEXTS[0]!), c.final(), c.getAuthTag()]);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(rsaCt.length);
      const value = Buffer.concat([len, rsaCt, body]).toString('base64');
      return unsealBitnamiSealedSecret({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'x', namespace: 'ns' }, spec: { encryptedData: { a: value } } }, [rsa.privateKey]);
    }],
    ['Bitnami template data echoing plaintext', () =>
      unsealBitnamiSealedSecret({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'x', namespace: 'ns' }, spec: { encryptedData: {}, template: { data: { a: PLAINTEXTS[0] } } } }, [rsa.privateKey])],
  ];

  test.each(failures)('%s', (_name, fn) => {
    const text = everythingAbout(capture(fn));
    for (const p of PLAINTEXTS) for (const s of spellings(p)) expect(text).not.toContain(s);
    expect(text).not.toContain('Pl41ntext');
  });

  test('checkSealedSecret answers with codes only', () => {
    const s = sealed();
    s.spec.encryptedData.a = s.spec.encryptedData.b!;
    const text = JSON.stringify(checkSealedSecret(s, ring));
    expect(text).not.toContain('Pl41ntext');
    expect(text).not.toContain(b64(PLAINTEXTS[2]!));
  });

  test('sealed output carries no plaintext, not even through a last-applied annotation', () => {
    const m = manifest();
    (m.metadata as Record<string, unknown>).annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ stringData: { a: PLAINTEXTS[0] } }) };
    const text = JSON.stringify(sealSecret(m, key));
    for (const p of PLAINTEXTS) for (const s of spellings(p)) expect(text).not.toContain(s);
  });
});
