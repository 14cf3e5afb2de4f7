import { describe, expect, test } from 'vitest';
import nacl from 'tweetnacl';
import { boxAfter, boxOpenAfter, boxSharedKey, boxSharedKeyFromRaw, privateKeyFromRaw, publicKeyFromRaw, rawPrivateKey, rawPublicKey, generateX25519 } from '../../src/secrets/nacl-box.js';

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

  test('the shared key from a raw peer key equals nacl.box.before and the KeyObject path', () => {
    for (let i = 0; i < 20; i++) {
      const recipient = nacl.box.keyPair();
      const sender = nacl.box.keyPair();
      const privateKey = privateKeyFromRaw(recipient.secretKey);
      const k = boxSharedKeyFromRaw(privateKey, sender.publicKey);
      expect(Buffer.from(k)).toEqual(Buffer.from(nacl.box.before(sender.publicKey, recipient.secretKey)));
      expect(Buffer.from(k)).toEqual(Buffer.from(boxSharedKey(privateKey, publicKeyFromRaw(sender.publicKey))));
      // a view into a larger buffer (as an envelope's ephemeral key is) reads only its own 32 bytes
      const framed = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), sender.publicKey, Buffer.from([0xff])]);
      expect(Buffer.from(boxSharedKeyFromRaw(privateKey, framed.subarray(3, 35)))).toEqual(Buffer.from(k));
    }
  });

  test('a raw public key round-trips through publicKeyFromRaw', () => {
    const { publicKey } = nacl.box.keyPair();
    expect(Buffer.from(rawPublicKey(publicKeyFromRaw(publicKey)))).toEqual(Buffer.from(publicKey));
    expect(publicKeyFromRaw(publicKey).asymmetricKeyType).toBe('x25519');
  });

  test('every canonical low-order peer point is refused from raw bytes too', () => {
    const { privateKey } = generateX25519();
    const lowOrder = [
      '00'.repeat(32),
      '01' + '00'.repeat(31),
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
      'ec' + 'ff'.repeat(30) + '7f', // p - 1
    ];
    for (const hex of lowOrder) expect(() => boxSharedKeyFromRaw(privateKey, Buffer.from(hex, 'hex')), hex).toThrow();
  });

  test('a raw key of the wrong length is refused', () => {
    const { privateKey } = generateX25519();
    expect(() => boxSharedKeyFromRaw(privateKey, new Uint8Array(31))).toThrow(RangeError);
    expect(() => boxSharedKeyFromRaw(privateKey, new Uint8Array(33))).toThrow(RangeError);
    expect(() => publicKeyFromRaw(new Uint8Array(31))).toThrow(RangeError);
  });
});
