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
// The same SubjectPublicKeyInfo as PEM text: the 12-byte prefix is exactly 16 base64 characters,
// so the raw key's own base64 follows it directly.
const SPKI_PEM_HEAD = `-----BEGIN PUBLIC KEY-----\n${SPKI_PREFIX.toString('base64')}`;
const SPKI_PEM_TAIL = '\n-----END PUBLIC KEY-----\n';
// "expand 32-byte k"
const SIGMA = new Uint8Array([101, 120, 112, 97, 110, 100, 32, 51, 50, 45, 98, 121, 116, 101, 32, 107]);
const ZERO16 = new Uint8Array(16);

interface NaclLowLevel {
  crypto_core_hsalsa20(out: Uint8Array, inp: Uint8Array, k: Uint8Array, c: Uint8Array): number;
}
const lowlevel = (nacl as unknown as { lowlevel: NaclLowLevel }).lowlevel;

/**
 * A raw X25519 public key as SPKI PEM text. node:crypto takes a string key without first probing
 * whether it is a KeyObject or CryptoKey; for an object or a Buffer (DER, JWK, raw-public) each
 * probe throws and catches an exception internally, which cost more than the X25519 itself
 * (measured on Node 24: createPublicKey from DER ~20 µs, from this text ~8 µs).
 */
function publicKeyPem(raw: Uint8Array): string {
  if (raw.length !== X25519_KEY_BYTES) throw new RangeError('X25519 public key must be 32 bytes');
  return SPKI_PEM_HEAD + Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') + SPKI_PEM_TAIL;
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey(publicKeyPem(raw));
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
export function boxSharedKey(privateKey: KeyObject, publicKey: KeyObject | string): Uint8Array {
  const shared = diffieHellman({ privateKey, publicKey });
  const k = new Uint8Array(32);
  lowlevel.crypto_core_hsalsa20(k, ZERO16, shared, SIGMA);
  shared.fill(0);
  return k;
}

/**
 * boxSharedKey with the peer's raw 32-byte public key (an envelope's ephemeral key), without
 * making a KeyObject for a key that is used once: node:crypto reads the SPKI text directly.
 */
export function boxSharedKeyFromRaw(privateKey: KeyObject, peerRaw: Uint8Array): Uint8Array {
  return boxSharedKey(privateKey, publicKeyPem(peerRaw));
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
