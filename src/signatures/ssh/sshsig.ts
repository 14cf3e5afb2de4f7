/**
 * The SSHSIG envelope (OpenSSH PROTOCOL.sshsig), parsed strictly:
 *   "SSHSIG" | uint32 version=1 | string publickey | string namespace | string reserved ("")
 *   | string hash_algorithm ("sha256" / "sha512") | string signature, and nothing after it.
 * The signed data is "SSHSIG" | string namespace | string reserved | string hash_alg | string H(msg).
 */
import { createHash } from 'node:crypto';
import { type SshPublicKey, parsePublicKeyBlob } from './public-key.js';
import { type ParsedSignature, parseSignatureBlob } from './signature.js';
import { SshFormatError, SshReader, SshWriter } from './wire.js';

const MAGIC = Buffer.from('SSHSIG', 'latin1');
export const SSHSIG_HASHES = ['sha256', 'sha512'] as const;
export type SshsigHash = (typeof SSHSIG_HASHES)[number];

export interface Sshsig {
  publicKey: SshPublicKey;
  namespace: string;
  hashAlgorithm: SshsigHash;
  signature: ParsedSignature;
}

/** Parses a decoded SSHSIG blob. Throws SshFormatError (MALFORMED_SIGNATURE). */
export function parseSshsig(data: Uint8Array): Sshsig {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const r = new SshReader(buf, 'SSHSIG');
  if (!r.bytes(MAGIC.length, 'magic').equals(MAGIC)) throw new SshFormatError('SSHSIG: bad magic preamble');
  const version = r.uint32('version');
  if (version !== 1) throw new SshFormatError(`SSHSIG: version ${version} is not 1`);
  const keyBlob = r.string('public key');
  const namespace = r.text('namespace');
  if (r.string('reserved').length !== 0) throw new SshFormatError('SSHSIG: reserved field is not empty');
  const hash = r.text('hash algorithm');
  const sigBlob = r.string('signature');
  r.end();
  if (namespace.length === 0) throw new SshFormatError('SSHSIG: empty namespace');
  if (!(SSHSIG_HASHES as readonly string[]).includes(hash)) throw new SshFormatError(`SSHSIG: hash algorithm "${hash.slice(0, 40)}" is not sha256 or sha512`);
  const publicKey = parsePublicKeyBlob(keyBlob);
  const signature = parseSignatureBlob(sigBlob, publicKey.key, 'SSHSIG signature');
  return { publicKey, namespace, hashAlgorithm: hash as SshsigHash, signature };
}

/** The exact bytes the signer's key signed for `message`. */
export function sshsigSignedData(sig: Pick<Sshsig, 'namespace' | 'hashAlgorithm'>, message: Buffer): Buffer {
  const digest = createHash(sig.hashAlgorithm).update(message).digest();
  return new SshWriter().raw(MAGIC).string(sig.namespace).string(Buffer.alloc(0)).string(sig.hashAlgorithm).string(digest).toBuffer();
}
