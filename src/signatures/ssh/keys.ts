/**
 * SSH public keys (RFC 4253 §6.6, RFC 5656, RFC 8709, OpenSSH PROTOCOL.u2f): parsing the plain
 * key fields strictly, rebuilding the canonical plain blob, the SHA256 fingerprint, and a node:crypto
 * KeyObject built from a JWK (never from the SSH text). Certificates are in certificate.ts.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { SshFormatError, type SshReader, SshWriter } from './wire.js';

export const PLAIN_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-dss',
] as const;
export type PlainKeyType = (typeof PLAIN_KEY_TYPES)[number];

export type KeyFamily = 'ed25519' | 'ecdsa' | 'rsa' | 'dsa';

interface Curve {
  sshName: string;
  jwk: 'P-256' | 'P-384' | 'P-521';
  /** Field size in bytes. */
  size: number;
  /** Digest the ECDSA signature uses (RFC 5656 §6.2.1). */
  hash: 'sha256' | 'sha384' | 'sha512';
}

export const CURVES: Record<string, Curve> = {
  'ecdsa-sha2-nistp256': { sshName: 'nistp256', jwk: 'P-256', size: 32, hash: 'sha256' },
  'ecdsa-sha2-nistp384': { sshName: 'nistp384', jwk: 'P-384', size: 48, hash: 'sha384' },
  'ecdsa-sha2-nistp521': { sshName: 'nistp521', jwk: 'P-521', size: 66, hash: 'sha512' },
  'sk-ecdsa-sha2-nistp256@openssh.com': { sshName: 'nistp256', jwk: 'P-256', size: 32, hash: 'sha256' },
};

/** RSA moduli outside this range are refused when parsing (OpenSSH: 1024 .. 16384 bits). */
const RSA_MIN_PARSE_BITS = 1024;
const RSA_MAX_BITS = 16384;

export interface PlainKey {
  type: PlainKeyType;
  family: KeyFamily;
  /** Canonical plain public-key blob (for a certificate: rebuilt from its key fields). */
  blob: Buffer;
  /** "SHA256:" + unpadded base64 of SHA-256(blob), as ssh-keygen -l prints it. */
  fingerprint: string;
  /** Key size in bits (Ed25519: 256; ECDSA: the curve; RSA/DSA: the modulus / p). */
  bits: number;
  curve?: Curve;
  /** FIDO keys: the application string (usually "ssh:"). */
  application?: string;
  /** Raw fields the maths need. */
  ed25519?: Buffer;
  point?: Buffer;
  rsa?: { e: Buffer; n: Buffer };
}

export function isPlainKeyType(type: string): type is PlainKeyType {
  return (PLAIN_KEY_TYPES as readonly string[]).includes(type);
}

export function isSkType(type: PlainKeyType): boolean {
  return type.startsWith('sk-');
}

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function bitLength(unsigned: Buffer): number {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  if (i === unsigned.length) return 0;
  return (unsigned.length - i - 1) * 8 + (32 - Math.clz32(unsigned[i] as number));
}

function readEcPoint(r: SshReader, type: PlainKeyType, curve: Curve): Buffer {
  const name = r.text('curve name');
  if (name !== curve.sshName) throw new SshFormatError(`${type} key names curve "${name.slice(0, 40)}", expected ${curve.sshName}`);
  const point = r.string('public point');
  if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) throw new SshFormatError(`${type} public point is not an uncompressed ${curve.jwk} point`);
  return point;
}

/**
 * Reads the key-specific fields that follow the type name (plain keys) or the nonce (certificates),
 * and rebuilds the canonical plain blob from them.
 */
export function readPlainKeyFields(r: SshReader, type: PlainKeyType): PlainKey {
  const w = new SshWriter().string(type);
  const family: KeyFamily = type.includes('ed25519') ? 'ed25519' : type.includes('ecdsa') ? 'ecdsa' : type === 'ssh-rsa' ? 'rsa' : 'dsa';
  const base = { type, family };
  let key: Omit<PlainKey, 'blob' | 'fingerprint'>;
  if (family === 'ed25519') {
    const pk = r.string('ed25519 public key');
    if (pk.length !== 32) throw new SshFormatError(`${type} public key is ${pk.length} bytes, expected 32`);
    w.string(pk);
    key = { ...base, bits: 256, ed25519: pk };
  } else if (family === 'ecdsa') {
    const curve = CURVES[type] as Curve;
    const point = readEcPoint(r, type, curve);
    w.string(curve.sshName).string(point);
    key = { ...base, bits: curve.size === 66 ? 521 : curve.size * 8, curve, point };
  } else if (family === 'rsa') {
    const e = r.mpint('rsa exponent');
    const n = r.mpint('rsa modulus');
    const bits = bitLength(n);
    if (bits < RSA_MIN_PARSE_BITS || bits > RSA_MAX_BITS) throw new SshFormatError(`ssh-rsa modulus of ${bits} bits is outside ${RSA_MIN_PARSE_BITS}..${RSA_MAX_BITS}`);
    if (e.length === 0 || ((e.at(-1) as number) & 1) === 0 || bitLength(e) < 2 || e.length > 8) throw new SshFormatError('ssh-rsa public exponent is not a small odd number');
    w.mpint(e).mpint(n);
    key = { ...base, bits, rsa: { e, n } };
  } else {
    // DSA is refused as WEAK_ALGORITHM; its fields are read only to know the key size.
    const p = r.mpint('dsa p');
    const q = r.mpint('dsa q');
    const g = r.mpint('dsa g');
    const y = r.mpint('dsa y');
    w.mpint(p).mpint(q).mpint(g).mpint(y);
    key = { ...base, bits: bitLength(p) };
  }
  if (isSkType(type)) {
    const application = r.text('sk application');
    w.string(application);
    key = { ...key, application };
  }
  const blob = w.toBuffer();
  const parsed: PlainKey = { ...key, blob, fingerprint: fingerprintOf(blob) };
  if (family === 'ecdsa' || family === 'rsa') {
    // OpenSSL checks the point is on the curve (and the RSA numbers) when the key object is built.
    try {
      keyObjectOf(parsed);
    } catch {
      throw new SshFormatError(`${type} public key is not a valid ${family === 'ecdsa' ? 'point on the curve' : 'RSA key'}`);
    }
  }
  return parsed;
}

const b64url = (b: Buffer): string => b.toString('base64url');

const keyObjects = new WeakMap<PlainKey, KeyObject>();

/** The node:crypto public key (built from a JWK; OpenSSL rejects EC points that are not on the curve). */
export function keyObjectOf(key: PlainKey): KeyObject {
  const cached = keyObjects.get(key);
  if (cached) return cached;
  let jwk: Record<string, string>;
  if (key.family === 'ed25519') jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(key.ed25519 as Buffer) };
  else if (key.family === 'ecdsa') {
    const size = (key.curve as Curve).size;
    const point = key.point as Buffer;
    jwk = { kty: 'EC', crv: (key.curve as Curve).jwk, x: b64url(point.subarray(1, 1 + size)), y: b64url(point.subarray(1 + size)) };
  } else if (key.family === 'rsa') {
    const { e, n } = key.rsa as { e: Buffer; n: Buffer };
    jwk = { kty: 'RSA', n: b64url(n), e: b64url(e) };
  } else throw new SshFormatError(`${key.type} keys cannot be used for verification`);
  const object = createPublicKey({ key: jwk, format: 'jwk' });
  keyObjects.set(key, object);
  return object;
}
