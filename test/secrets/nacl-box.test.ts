import { describe, expect, test } from 'vitest';
import nacl from 'tweetnacl';
import { boxAfter, boxOpenAfter, boxSharedKey, privateKeyFromRaw, publicKeyFromRaw, rawPrivateKey, rawPublicKey, generateX25519 } from '../../src/secrets/nacl-box.js';

describe('NaCl box with X25519 from node:crypto', () => {
  test('produces exactly what nacl.box produces, and nacl.box.open opens it', () => {
    const recipient = nacl.box.keyPair();
    const sender = nacl.box.keyPair();
    const nonce = nacl.randomBytes(24);
    const message = new TextEncoder().encode('interop check');
    const k = boxSharedKey(privateKeyFromRaw(sender.secretKey), publicKeyFromRaw(recipient.publicKey));
    expect(Buffer.from(k)).toEqual(Buffer.from(nacl.box.before(recipient.publicKey, sender.secretKey)));
    const ours = boxAfter(message, nonce, k);
    expect(Buffer.from(ours)).toEqual(Buffer.from(nacl.box(message, nonce, recipient.publicKey, sender.secretKey)));
    expect(nacl.box.open(ours, nonce, sender.publicKey, recipient.secretKey)).toEqual(message);
  });

  test('opens what nacl.box sealed', () => {
    const recipient = nacl.box.keyPair();
    const sender = nacl.box.keyPair();
    const nonce = nacl.randomBytes(24);
    const box = nacl.box(new Uint8Array([1, 2, 3]), nonce, recipient.publicKey, sender.secretKey);
    const k = boxSharedKey(privateKeyFromRaw(recipient.secretKey), publicKeyFromRaw(sender.publicKey));
    expect(boxOpenAfter(box, nonce, k)).toEqual(new Uint8Array([1, 2, 3]));
    box[box.length - 1]! ^= 1;
    expect(boxOpenAfter(box, nonce, k)).toBeNull();
  });

  test('raw key conversions round-trip and match tweetnacl key derivation', () => {
    const { privateKey, publicKey } = generateX25519();
    const sk = rawPrivateKey(privateKey);
    expect(Buffer.from(nacl.box.keyPair.fromSecretKey(sk).publicKey)).toEqual(Buffer.from(rawPublicKey(publicKey)));
  });

  test('a low-order peer point is refused rather than giving a predictable key', () => {
    const { privateKey } = generateX25519();
    expect(() => boxSharedKey(privateKey, publicKeyFromRaw(new Uint8Array(32)))).toThrow();
  });
});
