import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomFillSync, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';

/**
 * NaCl crypto_box with the X25519 step done by node:crypto (OpenSSL is far faster than tweetnacl's
 * scalar multiplication). The rest is NaCl's own: HSalsa20 key derivation, then XSalsa20-Poly1305
 * (`nacl.secretbox` == `nacl.box.after`). Output is byte-identical to `nacl.box`.
 */

export const X25519_KEY_BYTES = 32;
export const BOX_NONCE_BYTES = nacl.box.nonceLength;
export const BOX_OVERHEAD_BYTES = nacl.box.overheadLength;

// DER prefixes of an X25519 SubjectPublicKeyInfo / PKCS#8 PrivateKeyInfo (RFC 8410); the raw key follows.
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
// "expand 32-byte k"
const SIGMA = new Uint8Array([101, 120, 112, 97, 110, 100, 32, 51, 50, 45, 98, 121, 116, 101, 32, 107]);
const ZERO16 = new Uint8Array(16);

interface NaclLowLevel {
  crypto_core_hsalsa20(out: Uint8Array, inp: Uint8Array, k: Uint8Array, c: Uint8Array): number;
}
const lowlevel = (nacl as unknown as { lowlevel: NaclLowLevel }).lowlevel;

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== X25519_KEY_BYTES) throw new RangeError('X25519 public key must be 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function privateKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== X25519_KEY_BYTES) throw new RangeError('X25519 private key must be 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

export function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - X25519_KEY_BYTES));
}

export function rawPrivateKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  return new Uint8Array(der.subarray(der.length - X25519_KEY_BYTES));
}

export function generateX25519(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('x25519');
}

/**
 * crypto_box_beforenm: HSalsa20(X25519(sk, pk)). Throws if the peer key is a low-order point
 * (OpenSSL refuses an all-zero shared secret), which callers treat as tampering.
 */
export function boxSharedKey(privateKey: KeyObject, publicKey: KeyObject): Uint8Array {
  const shared = diffieHellman({ privateKey, publicKey });
  const k = new Uint8Array(32);
  lowlevel.crypto_core_hsalsa20(k, ZERO16, shared, SIGMA);
  shared.fill(0);
  return k;
}

export function boxAfter(message: Uint8Array, nonce: Uint8Array, sharedKey: Uint8Array): Uint8Array {
  return nacl.secretbox(message, nonce, sharedKey);
}

/** Returns null when authentication fails. */
export function boxOpenAfter(box: Uint8Array, nonce: Uint8Array, sharedKey: Uint8Array): Uint8Array | null {
  return nacl.secretbox.open(box, nonce, sharedKey);
}

export function randomNonce(): Uint8Array {
  return randomFillSync(new Uint8Array(BOX_NONCE_BYTES));
}
