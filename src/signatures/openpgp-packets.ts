/**
 * Minimal strict walk of a detached OpenPGP signature, done before openpgp.js (which silently
 * ignores v3 packets and extra packets): exactly one signature packet, v4 or v6, binary-document
 * type, a hashed creation time, well-formed subpackets and signature fields.
 * Failures: SignatureError MALFORMED_SIGNATURE or LEGACY_SIGNATURE.
 */
import { SignatureError } from '../errors.js';

export const HASH_ALGORITHMS: Record<number, string> = {
  1: 'MD5',
  2: 'SHA1',
  3: 'RIPEMD160',
  8: 'SHA256',
  9: 'SHA384',
  10: 'SHA512',
  11: 'SHA224',
  12: 'SHA3-256',
  14: 'SHA3-512',
};

export const PUBLIC_KEY_ALGORITHMS: Record<number, string> = {
  1: 'rsaEncryptSign',
  3: 'rsaSign',
  16: 'elgamal',
  17: 'dsa',
  19: 'ecdsa',
  20: 'elgamalEncryptSign',
  22: 'eddsaLegacy',
  27: 'ed25519',
  28: 'ed448',
};

/** Signature field layout after the hash prefix: number of MPIs, or a fixed octet length. */
const SIGNATURE_FIELDS: Record<number, { mpis: number } | { octets: number }> = {
  1: { mpis: 1 },
  3: { mpis: 1 },
  16: { mpis: 2 },
  17: { mpis: 2 },
  19: { mpis: 2 },
  20: { mpis: 2 },
  22: { mpis: 2 },
  27: { octets: 64 },
  28: { octets: 114 },
};

const SIGNATURE_TAG = 2;
const BINARY_DOCUMENT = 0x00;

export interface ParsedSignaturePacket {
  version: 4 | 6;
  signatureType: number;
  publicKeyAlgorithm: number;
  hashAlgorithm: number;
  created: Date;
  /** From a hashed signature-expiration subpacket. */
  expires?: Date;
  /** 16 upper-case hex digits, from the issuer key ID subpacket or the issuer fingerprint. */
  issuerKeyId?: string;
  /** Upper-case hex, from the issuer fingerprint subpacket. */
  issuerFingerprint?: string;
  /** The packet body bytes that are hashed after the data (version .. hashed subpackets). */
  hashedPrefix: Uint8Array;
  /** v6 only: the salt hashed before the data. */
  salt?: Uint8Array;
  /** The "left 16 bits of the hash" field as found (not trusted: see openpgp.ts). */
  left16: Uint8Array;
}

function malformed(message: string): SignatureError {
  return new SignatureError('MALFORMED_SIGNATURE', message);
}

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {}
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.length) throw malformed(`${this.what} is truncated`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0] as number;
  }
  u16(): number {
    const b = this.take(2);
    return ((b[0] as number) << 8) | (b[1] as number);
  }
  u32(): number {
    const b = this.take(4);
    return (((b[0] as number) << 24) >>> 0) + ((b[1] as number) << 16) + ((b[2] as number) << 8) + (b[3] as number);
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

/** Splits a packet stream into (tag, body) pairs; partial and indeterminate lengths are refused. */
export function readPackets(bytes: Uint8Array): Array<{ tag: number; body: Uint8Array }> {
  const r = new Reader(bytes, 'packet stream');
  const packets: Array<{ tag: number; body: Uint8Array }> = [];
  while (r.remaining > 0) {
    const first = r.u8();
    if (!(first & 0x80)) throw malformed('packet header does not have its high bit set');
    let tag: number;
    let length: number;
    if (first & 0x40) {
      tag = first & 0x3f;
      const o1 = r.u8();
      if (o1 < 192) length = o1;
      else if (o1 < 224) length = ((o1 - 192) << 8) + r.u8() + 192;
      else if (o1 === 255) length = r.u32();
      else throw malformed('partial body lengths are not accepted in a signature');
    } else {
      tag = (first >> 2) & 0x0f;
      const type = first & 0x03;
      if (type === 0) length = r.u8();
      else if (type === 1) length = r.u16();
      else if (type === 2) length = r.u32();
      else throw malformed('indeterminate packet lengths are not accepted');
    }
    packets.push({ tag, body: r.take(length) });
  }
  return packets;
}

interface Subpacket {
  type: number;
  critical: boolean;
  data: Uint8Array;
}

function readSubpackets(area: Uint8Array, where: string): Subpacket[] {
  const r = new Reader(area, `${where} subpacket area`);
  const out: Subpacket[] = [];
  while (r.remaining > 0) {
    const o1 = r.u8();
    let length: number;
    if (o1 < 192) length = o1;
    else if (o1 < 255) length = ((o1 - 192) << 8) + r.u8() + 192;
    else length = r.u32();
    if (length === 0) throw malformed(`empty ${where} subpacket`);
    const body = r.take(length);
    const typeByte = body[0] as number;
    out.push({ type: typeByte & 0x7f, critical: (typeByte & 0x80) !== 0, data: body.subarray(1) });
  }
  return out;
}

function readSignatureFields(r: Reader, algorithm: number): void {
  const layout = SIGNATURE_FIELDS[algorithm];
  if (!layout) throw malformed(`unsupported public key algorithm ${algorithm}`);
  if ('octets' in layout) {
    r.take(layout.octets);
  } else {
    for (let i = 0; i < layout.mpis; i++) {
      const bits = r.u16();
      if (bits === 0) throw malformed('empty MPI in the signature');
      r.take((bits + 7) >> 3);
    }
  }
  if (r.remaining !== 0) throw malformed('trailing bytes after the signature fields');
}

function exactlyOne(subpackets: Subpacket[], type: number, name: string): Subpacket | undefined {
  const found = subpackets.filter((s) => s.type === type);
  if (found.length > 1) throw malformed(`more than one ${name} subpacket`);
  return found[0];
}

function parseBody(body: Uint8Array): ParsedSignaturePacket {
  const r = new Reader(body, 'signature packet');
  const version = r.u8();
  if (version === 2 || version === 3) throw new SignatureError('LEGACY_SIGNATURE', `v${version} signature packets are not accepted (v4 or later required)`);
  if (version !== 4 && version !== 6) throw malformed(`unsupported signature packet version ${version}`);
  const signatureType = r.u8();
  const publicKeyAlgorithm = r.u8();
  const hashAlgorithm = r.u8();
  const wide = version === 6;
  const hashedLength = wide ? r.u32() : r.u16();
  const hashedArea = r.take(hashedLength);
  const hashedPrefix = body.subarray(0, r.pos);
  const unhashedArea = r.take(wide ? r.u32() : r.u16());
  const left16 = r.take(2);
  let salt: Uint8Array | undefined;
  if (wide) salt = r.take(r.u8());
  readSignatureFields(r, publicKeyAlgorithm);

  if (signatureType !== BINARY_DOCUMENT) throw malformed(`signature type 0x${signatureType.toString(16).padStart(2, '0')} is not a detached binary-document signature`);
  if (!HASH_ALGORITHMS[hashAlgorithm]) throw malformed(`unsupported hash algorithm ${hashAlgorithm}`);

  const hashed = readSubpackets(hashedArea, 'hashed');
  const unhashed = readSubpackets(unhashedArea, 'unhashed');
  const createdSp = exactlyOne(hashed, 2, 'hashed creation time');
  if (!createdSp || createdSp.data.length !== 4) throw malformed('no valid hashed signature creation time');
  if (unhashed.some((s) => s.type === 2)) throw malformed('creation time in the unhashed area');
  const createdSeconds = new Reader(createdSp.data, 'creation time').u32();
  const created = new Date(createdSeconds * 1000);

  let expires: Date | undefined;
  const expirySp = exactlyOne(hashed, 3, 'hashed signature expiration');
  if (expirySp) {
    if (expirySp.data.length !== 4) throw malformed('invalid signature expiration subpacket');
    const seconds = new Reader(expirySp.data, 'signature expiration').u32();
    if (seconds !== 0) expires = new Date((createdSeconds + seconds) * 1000);
  }

  const all = [...hashed, ...unhashed];
  const fprSp = exactlyOne(all, 33, 'issuer fingerprint');
  let issuerFingerprint: string | undefined;
  if (fprSp) {
    const v = fprSp.data[0];
    const fpr = fprSp.data.subarray(1);
    if (!((v === 4 && fpr.length === 20) || (v === 6 && fpr.length === 32))) throw malformed('invalid issuer fingerprint subpacket');
    issuerFingerprint = hex(fpr);
  }
  const keyIdSp = exactlyOne(all, 16, 'issuer key ID');
  let issuerKeyId: string | undefined;
  if (keyIdSp) {
    if (keyIdSp.data.length !== 8) throw malformed('invalid issuer key ID subpacket');
    issuerKeyId = hex(keyIdSp.data);
  }
  if (issuerFingerprint) {
    const fromFpr = issuerFingerprint.length === 40 ? issuerFingerprint.slice(-16) : issuerFingerprint.slice(0, 16);
    if (issuerKeyId && issuerKeyId !== fromFpr) throw malformed('issuer key ID and issuer fingerprint disagree');
    issuerKeyId = fromFpr;
  }
  if (!issuerKeyId) throw malformed('signature names no issuer (no issuer fingerprint or key ID subpacket)');

  return {
    version,
    signatureType,
    publicKeyAlgorithm,
    hashAlgorithm,
    created,
    ...(expires ? { expires } : {}),
    issuerKeyId,
    ...(issuerFingerprint ? { issuerFingerprint } : {}),
    hashedPrefix,
    ...(salt ? { salt } : {}),
    left16,
  };
}

/** Parses the binary (de-armored) data of a detached signature: exactly one signature packet. */
export function parseDetachedSignature(data: Uint8Array): ParsedSignaturePacket {
  const packets = readPackets(data);
  if (packets.length !== 1) {
    const sigs = packets.filter((p) => p.tag === SIGNATURE_TAG).length;
    if (sigs === packets.length && sigs > 1) throw new SignatureError('MULTIPLE_SIGNATURES', `${sigs} signature packets; exactly one is accepted`);
    throw malformed(`expected exactly one signature packet, found ${packets.length} packets (${sigs} signature packets)`);
  }
  const packet = packets[0] as { tag: number; body: Uint8Array };
  if (packet.tag !== SIGNATURE_TAG) throw malformed(`packet type ${packet.tag} is not a signature (not a detached signature)`);
  return parseBody(packet.body);
}
