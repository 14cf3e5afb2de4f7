/**
 * Sigstore verification with @sigstore/verify, fully offline against a pinned trusted root:
 * a bundle v0.3 is assembled from the gitsign evidence and handed to the stock Verifier
 * (chain at the Rekor time, SCTs, SET, inclusion proof, checkpoint, body, signature).
 *
 * A few checks run first so the reason is specific and in a sensible order (the library checks the
 * chain at an integratedTime before it has verified the SET that vouches for it): entry kind, known
 * log, SET, proof/checkpoint consistency, certificate validity at the SET-verified time. The
 * library then repeats all of it; its errors are mapped to our codes.
 */
import { verify as cryptoVerify } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import { ValidationError, bundleFromJSON } from '@sigstore/bundle';
import { json } from '@sigstore/core';
import type { X509Certificate } from '@sigstore/core';
import type { KeyFinderFunc, Signer } from '@sigstore/verify';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import type { SignatureReasonCode } from '../types.js';
import { GitsignError } from './errors.js';
import { HASHEDREKORD } from './hashedrekord.js';
import type { TlogEntryJson } from './tlog-entry.js';
import type { LoadedTrustedRoot } from './trusted-root.js';

export const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** Always explicit (specs/gitsign.md §5.2: a missing timestampThreshold silently disables trusted time). */
const THRESHOLDS = { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 } as const;

function fail(code: SignatureReasonCode, message: string, cause?: unknown): GitsignError {
  return new GitsignError(code, message, cause === undefined ? undefined : { cause });
}

/** Maps a @sigstore/verify or @sigstore/bundle error to a stable reason code. */
export function mapSigstoreError(err: unknown): GitsignError {
  if (err instanceof GitsignError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const m = `sigstore: ${message}`;
  switch (code) {
    case 'TLOG_INCLUSION_PROMISE_ERROR':
      return fail('REKOR_SET_INVALID', m, err);
    case 'TLOG_INCLUSION_PROOF_ERROR':
      return fail(/checkpoint/i.test(message) ? 'REKOR_CHECKPOINT_INVALID' : 'REKOR_INCLUSION_PROOF_INVALID', m, err);
    case 'TLOG_MISSING_INCLUSION_ERROR':
    case 'TLOG_ERROR':
      return fail('REKOR_ENTRY_MALFORMED', m, err);
    case 'TIMESTAMP_ERROR':
      return fail('TIMESTAMP_INVALID', m, err);
    case 'TLOG_BODY_ERROR':
      return fail('REKOR_ENTRY_MISMATCH', m, err);
    case 'CERTIFICATE_ERROR':
      if (/SCT/.test(message)) return fail('SCT_INVALID', m, err);
      if (/not valid or expired/.test(message)) return fail('CERT_NOT_VALID_AT_REKOR_TIME', m, err);
      return fail('CERT_CHAIN_INVALID', m, err);
    case 'PUBLIC_KEY_ERROR':
    case 'SIGNATURE_ERROR':
      return fail('BAD_SIGNATURE', m, err);
    case 'UNTRUSTED_SIGNER_ERROR':
      return fail('IDENTITY_NOT_ALLOWED', m, err);
    default:
      if (err instanceof ValidationError) return fail('REKOR_ENTRY_MALFORMED', `sigstore: ${message}${err.fields?.length ? ` (${err.fields.join(', ')})` : ''}`, err);
      return fail('VERIFICATION_ERROR', m, err);
  }
}

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

/** The pre-checks named in the header, for one hashedrekord entry of a certificate-signed bundle. */
export function precheckEntry(entry: TlogEntryJson, leaf: X509Certificate, trusted: LoadedTrustedRoot): Date {
  if (entry.kindVersion.kind !== HASHEDREKORD.kind || entry.kindVersion.version !== HASHEDREKORD.version) {
    throw fail('REKOR_ENTRY_MALFORMED', `Rekor entry kind ${entry.kindVersion.kind}/${entry.kindVersion.version} is not hashedrekord/0.0.1`);
  }
  const seconds = Number(entry.integratedTime);
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw fail('REKOR_ENTRY_MALFORMED', 'Rekor entry has no integrated time');
  if (!Number.isSafeInteger(Number(entry.logIndex))) throw fail('REKOR_ENTRY_MALFORMED', 'Rekor log index is out of range');
  const integratedTime = new Date(seconds * 1000);
  const logId = b64(entry.logId.keyId);
  const logs = trusted.material.tlogs.filter((t) => t.logID.equals(logId));
  if (logs.length === 0) throw fail('REKOR_LOG_UNKNOWN', `Rekor log ${logId.toString('hex')} is not in the trusted root`);
  const body = entry.canonicalizedBody;
  if (!body) throw fail('REKOR_ENTRY_MALFORMED', 'Rekor entry has no body');

  // SET: the log's signature over {body, integratedTime, logID, logIndex}, by a key valid at that time.
  const set = entry.inclusionPromise?.signedEntryTimestamp;
  if (!set) throw fail('REKOR_SET_INVALID', 'Rekor entry has no signed entry timestamp (SET)');
  const payload = Buffer.from(json.canonicalize({ body, integratedTime: seconds, logIndex: Number(entry.logIndex), logID: logId.toString('hex') }), 'utf8');
  const valid = logs.filter((t) => t.validFor.start <= integratedTime && integratedTime <= t.validFor.end);
  if (valid.length === 0) throw fail('REKOR_LOG_UNKNOWN', `no key of Rekor log ${logId.toString('hex')} is valid at ${integratedTime.toISOString()}`);
  if (!valid.some((t) => safeVerify(payload, t.publicKey, b64(set)))) throw fail('REKOR_SET_INVALID', 'the signed entry timestamp (SET) does not verify');

  // The proof's root and size must be the checkpoint's (the library reads only the checkpoint's).
  const proof = entry.inclusionProof;
  if (!proof) throw fail('REKOR_INCLUSION_PROOF_INVALID', 'Rekor entry has no inclusion proof');
  const lines = proof.checkpoint.envelope.split('\n');
  if (lines[1] !== proof.treeSize || lines[2] !== proof.rootHash) throw fail('REKOR_CHECKPOINT_INVALID', 'the checkpoint does not commit to the inclusion proof root and tree size');
  checkCheckpointSignatureLines(proof.checkpoint.envelope);

  // Inclusive bounds (RFC 5280), at the SET-verified time; never the signer's CMS signingTime.
  if (integratedTime < leaf.notBefore || integratedTime > leaf.notAfter) {
    throw fail('CERT_NOT_VALID_AT_REKOR_TIME', `signer certificate (valid ${leaf.notBefore.toISOString()}..${leaf.notAfter.toISOString()}) was not valid at the Rekor integrated time ${integratedTime.toISOString()}`);
  }
  return integratedTime;
}

/**
 * The signature lines of a checkpoint (a signed note: body, blank line, then `— name base64`
 * lines) must be canonical base64: the library decodes them leniently (junk characters dropped,
 * unused trailing bits ignored), so otherwise one checkpoint has many encodings, and with it
 * one gitsign signature many commit ids.
 */
function checkCheckpointSignatureLines(envelope: string): void {
  const blank = envelope.indexOf('\n\n');
  if (blank < 0 || !envelope.endsWith('\n')) throw fail('REKOR_CHECKPOINT_INVALID', 'the checkpoint is not a signed note (body, blank line, signature lines)');
  const signatures = envelope.slice(blank + 2, -1).split('\n');
  for (const line of signatures) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
    if (!m || Buffer.from(m[2]!, 'base64').toString('base64') !== m[2]) {
      throw fail('REKOR_CHECKPOINT_INVALID', 'a checkpoint signature line is not "— <name> <canonical base64>"');
    }
  }
}

function safeVerify(data: Buffer, key: Parameters<typeof cryptoVerify>[2], signature: Buffer): boolean {
  try {
    return cryptoVerify('sha256', data, key, signature);
  } catch {
    return false;
  }
}

export interface MessageSignatureEvidence {
  leafDer: Buffer;
  /** SHA-256 of `artifact`. */
  digest: Buffer;
  signature: Buffer;
  artifact: Buffer;
  entry: TlogEntryJson;
  timestampTokens?: Buffer[];
}

/** Bundle v0.3 for a message signature by a Fulcio certificate, validated by @sigstore/bundle. */
export function messageSignatureBundle(e: MessageSignatureEvidence): Bundle {
  const json = {
    mediaType: BUNDLE_V03,
    verificationMaterial: {
      certificate: { rawBytes: e.leafDer.toString('base64') },
      tlogEntries: [e.entry],
      ...(e.timestampTokens && e.timestampTokens.length > 0 ? { timestampVerificationData: { rfc3161Timestamps: e.timestampTokens.map((t) => ({ signedTimestamp: t.toString('base64') })) } } : {}),
    },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: e.digest.toString('base64') }, signature: e.signature.toString('base64') },
  };
  try {
    return bundleFromJSON(json);
  } catch (err) {
    throw mapSigstoreError(err);
  }
}

/** Runs the stock Verifier over a bundle; every failure becomes a GitsignError. */
export function verifyWithSigstore(bundle: Bundle, artifact: Buffer, trusted: LoadedTrustedRoot, managedKey?: KeyFinderFunc): Signer {
  try {
    const material = managedKey ? toTrustMaterial(trusted.root, managedKey) : trusted.material;
    const verifier = new Verifier(material, managedKey ? { ...THRESHOLDS, ctlogThreshold: 0 } : THRESHOLDS);
    return verifier.verify(toSignedEntity(bundle, artifact));
  } catch (err) {
    throw mapSigstoreError(err);
  }
}
