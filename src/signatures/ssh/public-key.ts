/**
 * One entry point for SSH public keys as they appear in SSHSIG blobs and in allowed_signers /
 * revoked-keys files: a plain key or an OpenSSH certificate.
 */
import { type SshCertificate, certifiedType, parseCertificate } from './certificate.js';
import { type PlainKey, isPlainKeyType, readPlainKeyFields } from './keys.js';
import { SshFormatError, SshReader } from './wire.js';

export type SshPublicKey = { kind: 'plain'; key: PlainKey; blob: Buffer } | { kind: 'certificate'; key: PlainKey; certificate: SshCertificate; blob: Buffer };

/** Parses a public-key blob strictly (no trailing bytes). Throws SshFormatError. */
export function parsePublicKeyBlob(blob: Buffer): SshPublicKey {
  const r = new SshReader(blob, 'public key');
  const type = r.text('key type');
  if (certifiedType(type)) {
    const certificate = parseCertificate(blob);
    return { kind: 'certificate', key: certificate.key, certificate, blob };
  }
  if (!isPlainKeyType(type)) throw new SshFormatError(`unsupported key type "${type.slice(0, 60)}"`);
  const key = readPlainKeyFields(r, type);
  r.end();
  if (!key.blob.equals(blob)) throw new SshFormatError('public key is not canonically encoded');
  return { kind: 'plain', key, blob };
}

/** Whether `name` is a key type this module reads (plain or certificate). */
export function isKnownKeyType(name: string): boolean {
  return isPlainKeyType(name) || certifiedType(name) !== undefined;
}

/**
 * Parses the `TYPE BASE64 [comment]` text form at the start of `text`. Returns the key and the
 * rest of the line (the comment). Throws SshFormatError.
 */
export function parsePublicKeyText(text: string): { key: SshPublicKey; comment: string } {
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(text);
  if (!m) throw new SshFormatError('expected "TYPE BASE64 [comment]"');
  const [, type, b64, comment] = m as unknown as [string, string, string, string | undefined];
  if (!isKnownKeyType(type)) throw new SshFormatError(`unsupported key type "${type.slice(0, 60)}"`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new SshFormatError('key is not valid base64');
  const blob = Buffer.from(b64, 'base64');
  if (blob.toString('base64') !== b64) throw new SshFormatError('key is not canonical base64');
  const key = parsePublicKeyBlob(blob);
  const inner = key.kind === 'certificate' ? key.certificate.certType : key.key.type;
  if (inner !== type) throw new SshFormatError(`key text says ${type} but the key is ${inner}`);
  return { key, comment: comment ?? '' };
}
