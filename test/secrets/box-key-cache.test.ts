import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, test } from 'vitest';
import { BOX_KEYS_PER_SEALING_KEY, cachedBoxKey } from '../../src/secrets/box-key-cache.js';
import { SealError, SealingKeyring, generateSealingKey, sealSecret, unsealSealedSecret } from '../../src/secrets/index.js';
import { generateX25519, rawPrivateKey } from '../../src/secrets/nacl-box.js';
import { secretManifest, thrown } from './helpers.js';

const expected = (privateKey: ReturnType<typeof generateX25519>['privateKey'], peer: Uint8Array) => Buffer.from(nacl.box.before(peer, rawPrivateKey(privateKey)));

describe('box keys of opened envelopes, kept per sealing key', () => {
  test('a second lookup gives the same key, equal to nacl.box.before', () => {
    const { privateKey } = generateX25519();
    const peer = nacl.box.keyPair().publicKey;
    const first = cachedBoxKey(privateKey, peer);
    expect(Buffer.from(first)).toEqual(expected(privateKey, peer));
    // a copy of the peer key in another buffer finds the same entry
    expect(cachedBoxKey(privateKey, Buffer.concat([Buffer.from([9]), peer]).subarray(1))).toBe(first);
  });

  test('another sealing key never gets the first key’s entry', () => {
    const a = generateX25519().privateKey;
    const b = generateX25519().privateKey;
    const peer = nacl.box.keyPair().publicKey;
    const ka = cachedBoxKey(a, peer);
    const kb = cachedBoxKey(b, peer);
    expect(Buffer.from(kb)).toEqual(expected(b, peer));
    expect(Buffer.from(kb)).not.toEqual(Buffer.from(ka));
  });

  test('past the bound the least recently used key is dropped and zeroed, and is computed again when asked for', () => {
    const { privateKey } = generateX25519();
    // random u-coordinates: each is some curve point's (a low-order one has negligible odds)
    const peers = Array.from({ length: BOX_KEYS_PER_SEALING_KEY + 1 }, () => randomBytes(32));
    const first = cachedBoxKey(privateKey, peers[0]!);
    const second = cachedBoxKey(privateKey, peers[1]!);
    cachedBoxKey(privateKey, peers[0]!); // used again: now the second is the oldest
    for (const peer of peers.slice(2)) cachedBoxKey(privateKey, peer);
    expect(Buffer.from(second)).toEqual(Buffer.alloc(32));
    expect(Buffer.from(first)).toEqual(expected(privateKey, peers[0]!));
    const again = cachedBoxKey(privateKey, peers[1]!);
    expect(again).not.toBe(second);
    expect(Buffer.from(again)).toEqual(expected(privateKey, peers[1]!));
  });

  test('a low-order point is refused every time (a failure is not kept)', () => {
    const { privateKey } = generateX25519();
    expect(() => cachedBoxKey(privateKey, new Uint8Array(32))).toThrow();
    expect(() => cachedBoxKey(privateKey, new Uint8Array(32))).toThrow();
  });

  test('a value opened once still fails authentication when its box is changed under the same ephemeral key', () => {
    const key = generateSealingKey();
    const ring = new SealingKeyring([key]);
    const sealed = sealSecret(secretManifest({ type: 'Opaque' }), key, { scope: 'strict' });
    expect(unsealSealedSecret(sealed, ring).data).toBeDefined();
    const bytes = Buffer.from(sealed.spec.encryptedData.password!, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    sealed.spec.encryptedData.password = bytes.toString('base64');
    const err = thrown(() => unsealSealedSecret(sealed, ring));
    expect(err).toBeInstanceOf(SealError);
    expect(err.code).toBe('SEAL_TAMPERED');
  });
});
