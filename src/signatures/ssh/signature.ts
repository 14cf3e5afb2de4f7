/**
 * SSH signature blobs (`string sigtype | string sig [| byte flags | uint32 counter]`) and their
 * maths with node:crypto: Ed25519, ECDSA P-256/384/521 (r, s as mpints → IEEE P1363), RSA PKCS#1
 * v1.5 with SHA-256/512, and the FIDO variants, whose signature covers
 * SHA-256(application) | flags | counter | SHA-256(data) (OpenSSH PROTOCOL.u2f).
 */
import { createHash, verify as cryptoVerify, constants } from 'node:crypto';
import { type PlainKey, isSkType, keyObjectOf } from './keys.js';
import { SshFormatError, SshReader } from './wire.js';

/** FIDO flag bits (CTAP2 authenticator data). */
export const SK_USER_PRESENCE = 0x01;
export const SK_USER_VERIFICATION = 0x04;

export interface ParsedSignature {
  sigType: string;
  sig: Buffer;
  /** RSA: the digest the signature type names. */
  rsaHash?: 'sha1' | 'sha256' | 'sha512';
  /** ECDSA: r and s, already padded to the field size (IEEE P1363). */
  p1363?: Buffer;
  /** FIDO keys only. */
  flags?: number;
  counter?: number;
}

const RSA_SIG_TYPES: Record<string, 'sha1' | 'sha256' | 'sha512'> = { 'ssh-rsa': 'sha1', 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' };

function leftPad(value: Buffer, size: number, what: string): Buffer {
  if (value.length === 0 || value.length > size || value.every((b) => b === 0)) throw new SshFormatError(`${what} is zero or longer than the curve`);
  return Buffer.concat([Buffer.alloc(size - value.length), value]);
}

/** Parses a signature blob for `key` (its type fixes the accepted signature types). Throws SshFormatError. */
export function parseSignatureBlob(blob: Buffer, key: PlainKey, what = 'signature'): ParsedSignature {
  const r = new SshReader(blob, what);
  const sigType = r.text('signature type');
  const sig = r.string('signature bytes');
  const out: ParsedSignature = { sigType, sig };
  if (key.family === 'rsa') {
    const hash = RSA_SIG_TYPES[sigType];
    if (!hash) throw new SshFormatError(`${what}: signature type "${sigType.slice(0, 60)}" does not fit an ssh-rsa key`);
    // OpenSSH pads short RSA signatures; we accept only the canonical full-length form.
    if (sig.length !== Math.ceil(key.bits / 8)) throw new SshFormatError(`${what}: RSA signature is ${sig.length} bytes for a ${key.bits}-bit modulus`);
    out.rsaHash = hash;
  } else if (sigType !== key.type) {
    throw new SshFormatError(`${what}: signature type "${sigType.slice(0, 60)}" does not fit a ${key.type} key`);
  } else if (key.family === 'ed25519') {
    if (sig.length !== 64) throw new SshFormatError(`${what}: Ed25519 signature is ${sig.length} bytes, expected 64`);
  } else if (key.family === 'ecdsa') {
    const inner = new SshReader(sig, `${what} (ECDSA r, s)`);
    const size = key.curve?.size as number;
    const rr = leftPad(inner.mpint('r'), size, 'ECDSA r');
    const ss = leftPad(inner.mpint('s'), size, 'ECDSA s');
    inner.end();
    out.p1363 = Buffer.concat([rr, ss]);
  }
  if (isSkType(key.type)) {
    out.flags = r.byte('sk flags');
    out.counter = r.uint32('sk counter');
  }
  r.end();
  return out;
}

function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The bytes a FIDO authenticator actually signed. */
function skSignedData(key: PlainKey, sig: ParsedSignature, data: Buffer): Buffer {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(sig.counter as number, 0);
  return Buffer.concat([sha256(key.application as string), Buffer.from([sig.flags as number]), counter, sha256(data)]);
}

/** Whether `sig` by `key` verifies over `data`. DSA is never verified (refused earlier as weak). */
export function verifySignature(key: PlainKey, sig: ParsedSignature, data: Buffer): boolean {
  const object = keyObjectOf(key);
  const message = isSkType(key.type) ? skSignedData(key, sig, data) : data;
  switch (key.family) {
    case 'ed25519':
      return cryptoVerify(null, message, object, sig.sig);
    case 'ecdsa':
      return cryptoVerify(isSkType(key.type) ? 'sha256' : key.curve?.hash, message, { key: object, dsaEncoding: 'ieee-p1363' }, sig.p1363 as Buffer);
    case 'rsa':
      return cryptoVerify(sig.rsaHash as string, message, { key: object, padding: constants.RSA_PKCS1_PADDING }, sig.sig);
    default:
      return false;
  }
}
