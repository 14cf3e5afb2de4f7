import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, test } from 'vitest';
import { SealingKeyring, SealingPublicKey, generateSealingKey, parsePrivateKey, sealSecret, unsealSealedSecret, type SealingKey } from '../../src/secrets/index.js';
import { rawPrivateKey } from '../../src/secrets/nacl-box.js';
import { fromB64 } from './helpers.js';

/**
 * A second implementation written only from docs/sealing.md §2–3, with tweetnacl alone (no code
 * from src/secrets), to check that the document is enough to interoperate.
 */
const doc = {
  keyId(pk: Uint8Array): Uint8Array {
    return createHash('sha256').update(pk).digest().subarray(0, 8);
  },
  labelHash(keyId: Uint8Array, scope: string, namespace: string, name: string, type: string, dataKey: string): Uint8Array {
    const lp = (s: string) => {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(2);
      len.writeUInt16BE(b.length);
      return Buffer.concat([len, b]);
    };
    const ns = scope === 'cluster-wide' ? '' : namespace;
    const nm = scope === 'strict' ? name : '';
    const label = Buffer.concat([Buffer.from('syncgate.dev/sealed-value'), Buffer.from([0, 1]), keyId, lp(scope), lp(ns), lp(nm), lp(type), lp(dataKey)]);
    return createHash('sha256').update(label).digest();
  },
  seal(value: Uint8Array, recipientPk: Uint8Array, scope: string, namespace: string, name: string, type: string, dataKey: string): string {
    const eph = nacl.box.keyPair();
    const nonce = nacl.randomBytes(24);
    const keyId = doc.keyId(recipientPk);
    const message = Buffer.concat([doc.labelHash(keyId, scope, namespace, name, type, dataKey), value]);
    const box = nacl.box(message, nonce, recipientPk, eph.secretKey);
    return Buffer.concat([Buffer.from([1]), keyId, eph.publicKey, nonce, box]).toString('base64');
  },
  open(envelope: string, recipientSk: Uint8Array, scope: string, namespace: string, name: string, type: string, dataKey: string): Uint8Array | null {
    const b = Buffer.from(envelope, 'base64');
    if (b[0] !== 1 || b.length < 113) return null;
    const keyId = b.subarray(1, 9);
    const message = nacl.box.open(b.subarray(65), b.subarray(41, 65), b.subarray(9, 41), recipientSk);
    if (!message) return null;
    const expected = doc.labelHash(keyId, scope, namespace, name, type, dataKey);
    return Buffer.compare(message.subarray(0, 32), expected) === 0 ? message.subarray(32) : null;
  },
};

describe('an independent implementation from docs/sealing.md', () => {
  test.each(['strict', 'namespace-wide', 'cluster-wide'])('values it seals open in syncgate (scope %s)', (scope) => {
    const recipient = nacl.box.keyPair();
    const pub = SealingPublicKey.fromRaw(recipient.publicKey);
    expect(Buffer.from(pub.keyIdBytes)).toEqual(doc.keyId(recipient.publicKey));
    const value = doc.seal(Buffer.from('from the other side'), recipient.publicKey, scope, 'payments', 'db', 'Opaque', 'password');
    const obj = { apiVersion: 'syncgate.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'payments' }, spec: { scope, encryptedData: { password: value } } };
    const ring = new SealingKeyring([keyFromRawSecret(recipient.secretKey)]);
    expect(fromB64(unsealSealedSecret(obj, ring).data.password).toString()).toBe('from the other side');
  });

  test('values syncgate seals open in it, only for the right place', () => {
    const key = generateSealingKey();
    const sealed = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'payments' }, type: 'kubernetes.io/tls', stringData: { 'tls.key': 'k' } }, key, { scope: 'namespace-wide' });
    const sk = rawPrivateKey(key.privateKey);
    const env = sealed.spec.encryptedData['tls.key']!;
    expect(Buffer.from(doc.open(env, sk, 'namespace-wide', 'payments', 'anything', 'kubernetes.io/tls', 'tls.key')!).toString()).toBe('k');
    expect(doc.open(env, sk, 'namespace-wide', 'payments', 'db', 'Opaque', 'tls.key')).toBeNull();
    expect(doc.open(env, sk, 'strict', 'payments', 'db', 'kubernetes.io/tls', 'tls.key')).toBeNull();
  });
});

function keyFromRawSecret(sk: Uint8Array): SealingKey {
  // PKCS#8 for X25519 is a fixed prefix + the 32 raw bytes (RFC 8410).
  const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), sk]);
  const pem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
  return parsePrivateKey(pem, 'raw');
}

test('the fixed test vector in docs/sealing.md opens to its value', () => {
  const envelope =
    'ARqS8jhS3JCNzo060cy2M+x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVkDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwO9' +
    '+lWgTQD9IiHJt3tOtGBW++0mowocfTOa4QvBaE3CgX64dO58ZyQ1//O7ZHxMZz9676rAZ5qT';
  const key = keyFromRawSecret(new Uint8Array(32).fill(1));
  expect(key.keyId).toBe('1a92f23852dc908d');
  const obj = { apiVersion: 'syncgate.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'payments' }, spec: { encryptedData: { password: envelope } } };
  expect(fromB64(unsealSealedSecret(obj, new SealingKeyring([key])).data.password).toString()).toBe('hunter2');
  // and the document's construction reproduces it byte for byte
  const rpk = nacl.box.keyPair.fromSecretKey(new Uint8Array(32).fill(1)).publicKey;
  const esk = new Uint8Array(32).fill(2);
  const keyId = doc.keyId(rpk);
  const message = Buffer.concat([doc.labelHash(keyId, 'strict', 'payments', 'db', 'Opaque', 'password'), Buffer.from('hunter2')]);
  const box = nacl.box(message, new Uint8Array(24).fill(3), rpk, esk);
  const rebuilt = Buffer.concat([Buffer.from([1]), keyId, nacl.box.keyPair.fromSecretKey(esk).publicKey, new Uint8Array(24).fill(3), box]).toString('base64');
  expect(rebuilt).toBe(envelope);
});
