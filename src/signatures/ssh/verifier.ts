/**
 * The SSH method verifier (git's `gpg.format=ssh`): SSHSIG over the payload, checked in the order
 * of expected-strict.json's defaultPolicy:
 *   MALFORMED_SIGNATURE (SSHSIG / key / signature structure) → UNKNOWN_KEY (no plain allowed_signers
 *   entry for the key; for a certificate: no cert-authority entry for its CA, or a host certificate,
 *   or a critical option we do not understand) → NAMESPACE_NOT_ALLOWED (signature namespace not
 *   "git", or every matching entry's namespaces= excludes it) → WEAK_HASH (ssh-rsa SHA-1) /
 *   WEAK_ALGORITHM (ssh-dss, RSA < 2048 bits) → BAD_SIGNATURE (the maths, the CA signature, a FIDO
 *   signature without user presence) → KEY_REVOKED (key or CA in a revoked-keys file), then per call
 *   (judge.ts) PRINCIPAL_MISMATCH and the validity windows.
 * The outcome is cached per object by verify.ts; it depends only on the object and this trust store.
 */
import { type ErrorLocation, asSyncgateError } from '../../errors.js';
import type { ParsedObject } from '../../git/object.js';
import type { CryptoOutcome, MethodInput, MethodVerifier, Reason, WeakFact } from '../method.js';
import type { SignerEvidence, SshEvidence } from '../types.js';
import type { AllowedSigner } from './allowed-signers.js';
import { FOREVER, KNOWN_CRITICAL_OPTIONS, type SshCertificate } from './certificate.js';
import { SshJudge } from './judge.js';
import type { PlainKey } from './keys.js';
import { matchPatternList } from './patterns.js';
import { SK_USER_PRESENCE, SK_USER_VERIFICATION, type ParsedSignature, verifySignature } from './signature.js';
import { type Sshsig, parseSshsig, sshsigSignedData } from './sshsig.js';
import { type SshTrustFiles, SshTrustStore, readSshTrustFiles } from './trust-store.js';
import { SshFormatError } from './wire.js';

/** The namespace git signs commits and tags in. */
export const GIT_NAMESPACE = 'git';
const MIN_RSA_BITS = 2048;

const reason = (code: Reason['code'], message: string): Reason => ({ code, message });
const where = (entries: readonly AllowedSigner[]): string => entries.map((e) => `${e.source}:${e.line}`).join(', ');
const iso = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');

function describe(sig: Sshsig): string {
  const pk = sig.publicKey;
  return pk.kind === 'certificate' ? `certificate "${pk.certificate.keyId}" (${pk.key.type} key ${pk.key.fingerprint}, CA ${pk.certificate.signatureKey.fingerprint})` : `${pk.key.type} key ${pk.key.fingerprint}`;
}

/** Entries that may admit this key, or why none can (UNKNOWN_KEY). */
function lookup(store: SshTrustStore, sig: Sshsig): { entries: readonly AllowedSigner[] } | { unknown: string } {
  const pk = sig.publicKey;
  if (pk.kind === 'plain') {
    const entries = store.signersFor(pk.key.blob);
    if (entries.length > 0) return { entries };
    const asCa = store.authoritiesFor(pk.key.blob);
    return { unknown: `${describe(sig)} is not listed in the allowed signers${asCa.length > 0 ? ` (only as a cert-authority at ${where(asCa)}, which admits certificates, not the key itself)` : ''}` };
  }
  const cert = pk.certificate;
  const entries = store.authoritiesFor(cert.signatureKey.blob);
  if (entries.length === 0) return { unknown: `${describe(sig)}: the CA is not listed as a cert-authority in the allowed signers` };
  if (cert.kind !== 'user') return { unknown: `${describe(sig)} is a host certificate; only user certificates can sign` };
  const unknownOption = cert.criticalOptions.find((o) => !KNOWN_CRITICAL_OPTIONS.has(o.name));
  if (unknownOption) return { unknown: `${describe(sig)} carries the critical option "${unknownOption.name.slice(0, 60)}", which syncgate does not understand` };
  return { entries };
}

function weakHash(sig: ParsedSignature, what: string): WeakFact | undefined {
  return sig.rsaHash === 'sha1' ? { name: `${what} ssh-rsa (SHA-1)`, waivable: false } : undefined;
}

function weakKey(key: PlainKey, what: string): WeakFact | undefined {
  if (key.family === 'dsa') return { name: `${what} ssh-dss (DSA)`, waivable: false };
  if (key.family === 'rsa' && key.bits < MIN_RSA_BITS) return { name: `${what} RSA-${key.bits}`, waivable: false };
  return undefined;
}

/** BAD_SIGNATURE reasons: the maths over the payload, the CA signature, the FIDO flags. */
function mathsProblem(sig: Sshsig, payload: Buffer): string | undefined {
  const pk = sig.publicKey;
  if (!verifySignature(pk.key, sig.signature, sshsigSignedData(sig, payload))) return `signature by ${describe(sig)} does not verify over this object`;
  if (pk.kind === 'certificate') {
    const cert = pk.certificate;
    if (!verifySignature(cert.signatureKey, cert.caSignature, cert.signedBytes)) return `the CA signature on ${describe(sig)} does not verify`;
    if (cert.criticalOptions.some((o) => o.name === 'verify-required') && pk.key.application !== undefined && ((sig.signature.flags ?? 0) & SK_USER_VERIFICATION) === 0) {
      return `${describe(sig)} requires user verification (verify-required), but the FIDO signature does not carry it`;
    }
  }
  if (pk.key.application !== undefined && ((sig.signature.flags ?? 0) & SK_USER_PRESENCE) === 0) return `FIDO signature by ${describe(sig)} was made without user presence (flags 0x${(sig.signature.flags ?? 0).toString(16).padStart(2, '0')})`;
  return undefined;
}

function certificateEvidence(cert: SshCertificate): SshEvidence['certificate'] {
  return {
    keyId: cert.keyId,
    serial: cert.serial.toString(),
    principals: cert.principals,
    caFingerprint: cert.signatureKey.fingerprint,
    caKeyType: cert.signatureKey.type,
    validAfter: iso(cert.validAfter),
    validBefore: cert.validBefore === FOREVER ? null : iso(cert.validBefore),
  };
}

function evidence(sig: Sshsig): SignerEvidence {
  const pk = sig.publicKey;
  const s = sig.signature;
  const ssh: SshEvidence = {
    keyType: pk.kind === 'certificate' ? pk.certificate.certType : pk.key.type,
    signatureType: s.sigType,
    namespace: sig.namespace,
    hashAlgorithm: sig.hashAlgorithm,
    ...(s.flags !== undefined ? { flags: s.flags, counter: s.counter as number, application: pk.key.application as string } : {}),
    ...(pk.kind === 'certificate' ? { certificate: certificateEvidence(pk.certificate) } : {}),
  };
  return { method: 'ssh', fingerprint: pk.key.fingerprint, hashAlgorithm: sig.hashAlgorithm.toUpperCase(), publicKeyAlgorithm: s.sigType, ssh };
}

function identityOf(object: ParsedObject) {
  return object.kind === 'commit' ? object.committer : object.tagger;
}

/** Where a reloadable SshVerifier reads its trust from (trust.allowedSigners, trust.sshRevokedKeys). */
export interface SshTrustSource extends SshTrustFiles {
  invalidLines?: 'reject' | 'skip';
}

/** What one reload did (same shape as the gitsign trusted-root reload). */
export interface SshTrustReload {
  files: string[];
  status: 'unchanged' | 'reloaded' | 'kept-last-good';
  /** Digest of the files behind the store now in use. */
  digest: string;
  /** Why the files on disk were not taken (kept-last-good), with file and line where known. */
  error?: { code: string; message: string; location?: ErrorLocation };
  /** Invalid lines skipped under invalidLines "skip". */
  warnings?: string[];
}

export class SshVerifier implements MethodVerifier {
  readonly method = 'ssh' as const;
  private readonly listeners: Array<() => void> = [];
  private digest = '';

  constructor(
    private store: SshTrustStore,
    private readonly source?: SshTrustSource,
  ) {}

  /** Reads the files once; throws ConfigError when they cannot be used (there is no last good yet). */
  static async load(source: SshTrustSource): Promise<SshVerifier> {
    const contents = await readSshTrustFiles(source);
    const verifier = new SshVerifier(SshTrustStore.fromContents(contents, { invalidLines: source.invalidLines ?? 'reject' }), source);
    verifier.digest = contents.digest;
    return verifier;
  }

  get trust(): SshTrustStore {
    return this.store;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Rereads the allowed-signers and revoked-keys files. A changed, valid set replaces the store
   * (listeners drop their cached outcomes); a bad one keeps the last good store and is reported.
   * Never throws.
   */
  async reload(): Promise<SshTrustReload> {
    const files = this.source ? [...this.source.allowedSigners, ...this.source.revokedKeys] : [];
    if (!this.source) return { files, status: 'unchanged', digest: this.digest };
    try {
      const contents = await readSshTrustFiles(this.source);
      if (contents.digest === this.digest) return { files, status: 'unchanged', digest: this.digest };
      const store = SshTrustStore.fromContents(contents, { invalidLines: this.source.invalidLines ?? 'reject' });
      this.store = store;
      this.digest = contents.digest;
      for (const listener of this.listeners) listener();
      return { files, status: 'reloaded', digest: this.digest, ...(store.warnings.length > 0 ? { warnings: store.warnings.map((w) => w.message) } : {}) };
    } catch (err) {
      const e = asSyncgateError(err, 'SSH_TRUST_INVALID');
      return { files, status: 'kept-last-good', digest: this.digest, error: { code: e.code, message: e.message, ...(e.location ? { location: e.location } : {}) } };
    }
  }

  async verify({ payload, armor, object }: MethodInput): Promise<CryptoOutcome> {
    const base: CryptoOutcome = { method: this.method };
    let sig: Sshsig;
    try {
      sig = parseSshsig(armor.data);
    } catch (err) {
      if (err instanceof SshFormatError) return { ...base, early: reason('MALFORMED_SIGNATURE', err.message) };
      throw err;
    }
    const pk = sig.publicKey;
    const keyFingerprints = [pk.key.fingerprint];

    const store = this.store;
    const found = lookup(store, sig);
    if ('unknown' in found) return { ...base, keyFingerprints, early: reason('UNKNOWN_KEY', found.unknown) };
    if (sig.namespace !== GIT_NAMESPACE) {
      return { ...base, keyFingerprints, early: reason('NAMESPACE_NOT_ALLOWED', `signature namespace is "${sig.namespace.slice(0, 60)}", not "${GIT_NAMESPACE}"`) };
    }
    const entries = found.entries.filter((e) => e.namespaces === undefined || matchPatternList(GIT_NAMESPACE, e.namespaces) === 1);
    if (entries.length === 0) {
      return { ...base, keyFingerprints, early: reason('NAMESPACE_NOT_ALLOWED', `${describe(sig)} is allowed only for namespaces that exclude "${GIT_NAMESPACE}" (${where(found.entries)})`) };
    }

    const cert = pk.kind === 'certificate' ? pk.certificate : undefined;
    const hashFact = weakHash(sig.signature, 'signature') ?? (cert ? weakHash(cert.caSignature, 'certificate signature') : undefined);
    const keyFact = weakKey(pk.key, 'signing key') ?? (cert ? weakKey(cert.signatureKey, 'certificate authority key') : undefined);
    const facts = { ...(hashFact ? { weakHash: hashFact } : {}), ...(keyFact ? { weakAlgorithm: keyFact } : {}) };
    if (hashFact || keyFact) return { ...base, keyFingerprints, ...facts, late: reason('BAD_SIGNATURE', `${describe(sig)}: weak algorithm, not verified`) };

    const bad = mathsProblem(sig, payload);
    if (bad) return { ...base, keyFingerprints, late: reason('BAD_SIGNATURE', bad) };

    const signer = evidence(sig);
    const revoked = store.revokedEntry(pk.key.blob) ?? (cert ? store.revokedEntry(cert.signatureKey.blob) : undefined);
    if (revoked) {
      const what = revoked.blob.equals(pk.key.blob) ? describe(sig) : `the CA of ${describe(sig)}`;
      return { ...base, keyFingerprints, signer, late: reason('KEY_REVOKED', `${what} is revoked (${revoked.source}:${revoked.line})`) };
    }
    const identity = identityOf(object);
    // What the per-call checks need from this object and this store, worked out once per cached outcome.
    const judge = new SshJudge({ entries, ...(cert ? { certificate: cert } : {}), ...(identity ? { identity } : {}), signer });
    return {
      ...base,
      keyFingerprints,
      signer,
      finish: (context) => {
        if (this.store !== store) {
          // Reloaded between this check and its caching: drop the cache again and fail closed once.
          for (const listener of this.listeners) listener();
          return { reason: reason('VERIFICATION_ERROR', 'the SSH trust material changed while this object was being verified; verify it again') };
        }
        return judge.judge(context);
      },
    };
  }
}
