/**
 * OpenSSH certificates (PROTOCOL.certkeys, `*-cert-v01@openssh.com`), parsed strictly: known key
 * type, user/host type, at most 256 principals, critical options and extensions sorted and unique,
 * empty reserved field, a plain (non-certificate) CA key, no trailing bytes. The CA signature is
 * checked by signature.ts over `signedBytes`; what the certificate may do is judged by judge.ts.
 */
import { type PlainKey, type PlainKeyType, isPlainKeyType, readPlainKeyFields } from './keys.js';
import { type ParsedSignature, parseSignatureBlob } from './signature.js';
import { SshFormatError, SshReader } from './wire.js';

const CERT_SUFFIX = '-cert-v01@openssh.com';
const MAX_PRINCIPALS = 256;

/** Critical options syncgate understands; any other one makes the certificate unusable. */
export const KNOWN_CRITICAL_OPTIONS = new Set(['force-command', 'source-address', 'verify-required']);

export interface SshCertificate {
  /** e.g. "ssh-ed25519-cert-v01@openssh.com". */
  certType: string;
  /** The certified key. */
  key: PlainKey;
  serial: bigint;
  kind: 'user' | 'host';
  keyId: string;
  principals: string[];
  /** Seconds since the epoch; validBefore 2^64-1 means forever. */
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions: Array<{ name: string; data: Buffer }>;
  extensions: string[];
  /** The CA key that signed the certificate. */
  signatureKey: PlainKey;
  /** The CA's signature, parsed for the CA key's type. */
  caSignature: ParsedSignature;
  /** The bytes the CA signed: everything before the signature field. */
  signedBytes: Buffer;
  blob: Buffer;
}

export const FOREVER = 0xffffffffffffffffn;

/** The plain type a certificate type wraps, or undefined when `type` is not a certificate type. */
export function certifiedType(type: string): PlainKeyType | undefined {
  if (!type.endsWith(CERT_SUFFIX)) return undefined;
  const stem = type.slice(0, -CERT_SUFFIX.length);
  const plain = stem.startsWith('sk-') ? `${stem}@openssh.com` : stem;
  return isPlainKeyType(plain) ? plain : undefined;
}

function readNamedList(data: Buffer, what: string, withData: boolean): Array<{ name: string; data: Buffer }> {
  const r = new SshReader(data, what);
  const out: Array<{ name: string; data: Buffer }> = [];
  while (r.remaining > 0) {
    const name = r.text(`${what} name`);
    const value = withData ? r.string(`${what} data`) : Buffer.alloc(0);
    const previous = out.at(-1);
    if (previous && Buffer.compare(Buffer.from(previous.name), Buffer.from(name)) >= 0) throw new SshFormatError(`${what} are not sorted or repeat "${name.slice(0, 60)}"`);
    out.push({ name, data: value });
  }
  return out;
}

/** Parses a certificate blob whose type name is `type` (already known to be a certificate type). */
export function parseCertificate(blob: Buffer): SshCertificate {
  const r = new SshReader(blob, 'certificate');
  const certType = r.text('certificate type');
  const plainType = certifiedType(certType);
  if (!plainType) throw new SshFormatError(`unknown certificate type "${certType.slice(0, 60)}"`);
  r.string('nonce');
  const key = readPlainKeyFields(r, plainType);
  const serial = r.uint64('serial');
  const typeCode = r.uint32('certificate kind');
  if (typeCode !== 1 && typeCode !== 2) throw new SshFormatError(`certificate kind ${typeCode} is neither user (1) nor host (2)`);
  const keyId = r.text('key id');
  const principalReader = new SshReader(r.string('valid principals'), 'certificate principals');
  const principals: string[] = [];
  while (principalReader.remaining > 0) {
    if (principals.length >= MAX_PRINCIPALS) throw new SshFormatError(`certificate lists more than ${MAX_PRINCIPALS} principals`);
    principals.push(principalReader.text('principal'));
  }
  const validAfter = r.uint64('valid after');
  const validBefore = r.uint64('valid before');
  if (validBefore <= validAfter) throw new SshFormatError('certificate validity ends before it starts');
  const criticalOptions = readNamedList(r.string('critical options'), 'critical options', true);
  const extensions = readNamedList(r.string('extensions'), 'extensions', true).map((e) => e.name);
  if (r.string('reserved').length !== 0) throw new SshFormatError('certificate reserved field is not empty');
  const caBlob = r.string('signature key');
  const signedBytes = blob.subarray(0, r.offset);
  const signature = r.string('signature');
  r.end();

  const ca = new SshReader(caBlob, 'certificate authority key');
  const caType = ca.text('key type');
  if (!isPlainKeyType(caType)) throw new SshFormatError(`certificate authority key type "${caType.slice(0, 60)}" is not a plain key type`);
  const signatureKey = readPlainKeyFields(ca, caType);
  ca.end();
  if (!signatureKey.blob.equals(caBlob)) throw new SshFormatError('certificate authority key is not canonically encoded');
  const caSignature = parseSignatureBlob(signature, signatureKey, 'certificate signature');
  return { certType, key, serial, kind: typeCode === 1 ? 'user' : 'host', keyId, principals, validAfter, validBefore, criticalOptions, extensions, signatureKey, caSignature, signedBytes, blob };
}
