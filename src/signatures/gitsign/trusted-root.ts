/**
 * The pinned Sigstore trusted_root.json: strict loading, a usability check, and reload from disk.
 *
 * Loading refuses what @sigstore/verify would silently accept: a key or CA without validFor.start
 * (read by the library as "since the beginning of time"), an empty certificate chain, an
 * unparseable key or certificate, an unknown media type. A root with no Rekor keys, no CT keys or
 * no Fulcio CA loads but cannot verify a gitsign signature: `usability` says why, with its code.
 *
 * TrustedRootStore.reload() rereads the file: a changed, valid root replaces the current one (and
 * listeners are told, so cached outcomes can be dropped); a bad or unusable one keeps the last good
 * root and is reported.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import type { TrustMaterial } from '@sigstore/verify';
import { toTrustMaterial } from '@sigstore/verify';
import type { SignatureReasonCode } from '../types.js';
import { GitsignError } from './errors.js';

export const MAX_TRUSTED_ROOT_BYTES = 1024 * 1024;
const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\.v0\.\d+)?\+json(;version=0\.\d+)?$/;

export interface Problem {
  code: SignatureReasonCode;
  message: string;
}

export interface LoadedTrustedRoot {
  root: TrustedRoot;
  /** Built once per root (parsed certificates and keys). */
  material: TrustMaterial;
  /** SHA-256 of the file, lower-case hex. */
  digest: string;
  /** Why this root cannot verify a certificate-based (Fulcio) signature, if it cannot. */
  unusable?: Problem;
  /** Every CA certificate in the root, DER. */
  caCertificates: Buffer[];
}

function invalid(message: string): GitsignError {
  return new GitsignError('TRUSTED_ROOT_INVALID', `trusted root: ${message}`);
}

function requireStart(validFor: { start?: Date } | undefined, what: string): void {
  if (!validFor?.start || Number.isNaN(validFor.start.getTime())) throw invalid(`${what} has no validFor.start`);
}

/** Parses and checks trusted_root.json bytes. Throws GitsignError TRUSTED_ROOT_INVALID. */
export function parseTrustedRoot(bytes: Buffer): LoadedTrustedRoot {
  if (bytes.length > MAX_TRUSTED_ROOT_BYTES) throw invalid(`larger than ${MAX_TRUSTED_ROOT_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !MEDIA_TYPE.test(mediaType)) throw invalid(`unexpected mediaType ${JSON.stringify(mediaType)}`);
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
  } catch (err) {
    throw invalid(`cannot be read (${(err as Error).message})`);
  }
  const caCertificates: Buffer[] = [];
  root.certificateAuthorities.forEach((ca, i) => {
    requireStart(ca.validFor, `certificate authority ${i}`);
    const certs = ca.certChain?.certificates ?? [];
    if (certs.length === 0) throw invalid(`certificate authority ${i} has an empty chain`);
    for (const c of certs) {
      try {
        X509Certificate.parse(Buffer.from(c.rawBytes));
      } catch {
        throw invalid(`certificate authority ${i} holds an unparseable certificate`);
      }
      caCertificates.push(Buffer.from(c.rawBytes));
    }
  });
  root.timestampAuthorities.forEach((ca, i) => requireStart(ca.validFor, `timestamp authority ${i}`));
  for (const [kind, logs] of [['transparency log', root.tlogs], ['CT log', root.ctlogs]] as const) {
    logs.forEach((log, i) => {
      if (!log.publicKey?.rawBytes || log.publicKey.rawBytes.length === 0) throw invalid(`${kind} ${i} has no public key`);
      if (!log.logId?.keyId || log.logId.keyId.length === 0) throw invalid(`${kind} ${i} has no log id`);
      requireStart(log.publicKey.validFor, `${kind} ${i} key`);
    });
  }
  let material: TrustMaterial;
  try {
    material = toTrustMaterial(root);
  } catch (err) {
    throw invalid(`keys or certificates cannot be used (${(err as Error).message})`);
  }
  const loaded: LoadedTrustedRoot = { root, material, digest: createHash('sha256').update(bytes).digest('hex'), caCertificates };
  if (root.tlogs.length === 0) loaded.unusable = { code: 'TRUSTED_ROOT_NO_REKOR_KEYS', message: 'the trusted root has no transparency log (Rekor) keys' };
  else if (root.ctlogs.length === 0) loaded.unusable = { code: 'TRUSTED_ROOT_NO_CT_KEYS', message: 'the trusted root has no certificate transparency log keys' };
  else if (root.certificateAuthorities.length === 0) loaded.unusable = { code: 'TRUSTED_ROOT_INVALID', message: 'the trusted root has no Fulcio certificate authority' };
  return loaded;
}

export async function loadTrustedRootFile(file: string): Promise<LoadedTrustedRoot> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw invalid(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseTrustedRoot(bytes);
}

/** What one reload did. */
export interface TrustedRootReload {
  file: string;
  status: 'unchanged' | 'reloaded' | 'kept-last-good';
  /** Digest of the root now in use. */
  digest: string;
  /** Why the file on disk was not taken (status kept-last-good). */
  error?: Problem;
}

/** Where a verifier gets the current root from. */
export interface TrustedRootSource {
  current(): LoadedTrustedRoot;
  onChange(listener: () => void): void;
}

export class TrustedRootStore implements TrustedRootSource {
  private readonly listeners: Array<() => void> = [];

  private constructor(
    readonly file: string,
    private loaded: LoadedTrustedRoot,
  ) {}

  /** Loads the file; throws GitsignError TRUSTED_ROOT_INVALID when it cannot be used at all. */
  static async open(file: string): Promise<TrustedRootStore> {
    return new TrustedRootStore(file, await loadTrustedRootFile(file));
  }

  current(): LoadedTrustedRoot {
    return this.loaded;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Rereads the file. Never throws: a bad file keeps the last good root and is reported. */
  async reload(): Promise<TrustedRootReload> {
    const base = { file: this.file };
    let next: LoadedTrustedRoot;
    try {
      next = await loadTrustedRootFile(this.file);
    } catch (err) {
      const error = err instanceof GitsignError ? { code: err.code, message: err.message } : { code: 'TRUSTED_ROOT_INVALID' as const, message: String(err) };
      return { ...base, status: 'kept-last-good', digest: this.loaded.digest, error };
    }
    if (next.digest === this.loaded.digest) return { ...base, status: 'unchanged', digest: next.digest };
    if (next.unusable && !this.loaded.unusable) return { ...base, status: 'kept-last-good', digest: this.loaded.digest, error: next.unusable };
    this.loaded = next;
    for (const listener of this.listeners) listener();
    return { ...base, status: 'reloaded', digest: next.digest };
  }
}
