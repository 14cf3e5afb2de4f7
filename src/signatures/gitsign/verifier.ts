/**
 * gitsign (Sigstore keyless) commit and tag signatures, verified offline. One named step after
 * another, each failing with its own code (specs/gitsign.md §6):
 *   trusted root usable → CMS parse → signer certificate (extra certificates must chain) →
 *   content binding (messageDigest) → ECDSA over the original signed attributes → Rekor evidence
 *   (embedded offline-mode entry, else a configured Rekor lookup, else REKOR_ENTRY_MISSING) →
 *   pre-checks (log, SET, checkpoint, certificate validity at the Rekor time) →
 *   @sigstore/verify (chain, SCTs, SET, proof, checkpoint, body, signature) → identity facts.
 * Identity rules (issuer, subject, committer) are the trust policy's (policy.ts), not this file's.
 * Never throws: anything unexpected is an early VERIFICATION_ERROR (fail closed).
 */
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';
import { computeObjectId } from '../../git/object.js';
import type { ParsedObject } from '../../git/object.js';
import type { CryptoOutcome, MethodInput, MethodVerifier } from '../method.js';
import type { GitsignEvidence, SignerEvidence } from '../types.js';
import { certificateFingerprint, checkLeafUsage, fulcioIdentity, signerCertificate } from './certificates.js';
import type { GitsignCms } from './cms.js';
import { parseGitsignCms } from './cms.js';
import { GitsignError } from './errors.js';
import { hashedrekordBody, readHashedrekordBody } from './hashedrekord.js';
import type { RekorLookup } from './rekor-client.js';
import { messageSignatureBundle, precheckEntry, verifyWithSigstore } from './sigstore.js';
import type { MessageSignatureEvidence } from './sigstore.js';
import { decodeTlogEntry } from './tlog-entry.js';
import type { LoadedTrustedRoot, TrustedRootSource } from './trusted-root.js';

export interface GitsignVerifierOptions {
  /** The pinned trusted root; without one every gitsign signature is TRUSTED_ROOT_MISSING. */
  trustedRoot?: TrustedRootSource;
  /** Rekor lookup for default-mode commits (no embedded entry). */
  rekor?: RekorLookup;
}

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();

function signerEmail(object: ParsedObject): string | undefined {
  return object.kind === 'commit' ? object.committer.email : object.tagger?.email;
}

/** ECDSA-SHA256 over the signed attributes exactly as stored (re-tagged as SET). */
function verifySignedAttributes(cms: GitsignCms, leaf: X509Certificate): boolean {
  try {
    const key = createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ec' && cryptoVerify('sha256', cms.signedAttributes, key, cms.signature);
  } catch {
    return false;
  }
}

type Candidate = () => { evidence: MessageSignatureEvidence; source: GitsignEvidence['rekorSource'] };

export class GitsignVerifier implements MethodVerifier {
  readonly method = 'gitsign' as const;

  constructor(private readonly options: GitsignVerifierOptions = {}) {}

  onChange(listener: () => void): void {
    this.options.trustedRoot?.onChange(listener);
  }

  async verify(input: MethodInput): Promise<CryptoOutcome> {
    try {
      return await this.run(input);
    } catch (err) {
      if (err instanceof GitsignError) {
        return { method: this.method, early: { code: err.code, message: err.message }, ...(err.transient ? { transient: true } : {}) };
      }
      return { method: this.method, early: { code: 'VERIFICATION_ERROR', message: `gitsign verification failed: ${err instanceof Error ? err.message : String(err)}` } };
    }
  }

  private async run({ payload, armor, object }: MethodInput): Promise<CryptoOutcome> {
    const trusted = this.options.trustedRoot?.current();
    if (!trusted) throw new GitsignError('TRUSTED_ROOT_MISSING', 'gitsign signatures need a Sigstore trusted root (trust.trustedRoot or --trusted-root)');
    if (trusted.unusable) throw new GitsignError(trusted.unusable.code, trusted.unusable.message);

    const cms = parseGitsignCms(armor.data);
    const { cert: leaf, der: leafDer } = signerCertificate(cms, trusted.caCertificates);
    if (!sha256(payload).equals(cms.messageDigest)) throw new GitsignError('CMS_DIGEST_MISMATCH', 'the signed message digest does not match the commit payload');
    if (!verifySignedAttributes(cms, leaf)) throw new GitsignError('BAD_SIGNATURE', 'the CMS signature over the signed attributes does not verify with the signer certificate');
    checkLeafUsage(leaf);

    const oid = computeObjectId(object.kind, object.raw, object.format);
    let verified: Awaited<ReturnType<GitsignVerifier['verifiedRekorEvidence']>>;
    try {
      verified = await this.verifiedRekorEvidence(cms, leaf, leafDer, oid, trusted);
    } catch (err) {
      // A looked-up answer may differ next time (index lag, outage): never cache a denial from it.
      if (err instanceof GitsignError && !cms.rekorEntry && this.options.rekor) err.transient = true;
      throw err;
    }
    const { evidence, source, integratedTime } = verified;

    const identity = fulcioIdentity(leaf);
    const email = signerEmail(object)?.toLowerCase();
    const gitsign: GitsignEvidence = {
      ...identity,
      rekorLogIndex: evidence.entry.logIndex,
      integratedTime: integratedTime.toISOString(),
      rekorLogId: Buffer.from(evidence.entry.logId.keyId, 'base64').toString('hex'),
      rekorSource: source,
      certificateFingerprint: certificateFingerprint(leafDer),
      certificateSerial: leaf.serialNumber.toString('hex'),
      trustedRootDigest: trusted.digest,
      cmsSigningTime: cms.signingTime.toISOString(),
      committerEmailMatch: identity.subjectType === 'email' && email !== undefined && identity.subject.toLowerCase() === email,
    };
    const signer: SignerEvidence = { method: 'gitsign', fingerprint: gitsign.certificateFingerprint, signedAt: gitsign.integratedTime, hashAlgorithm: 'SHA256', publicKeyAlgorithm: 'ecdsa-p256', gitsign };
    return { method: this.method, signer, keyFingerprints: [gitsign.certificateFingerprint], signedAt: integratedTime };
  }

  /**
   * The Rekor entry and what it signs, verified: embedded (offline mode), else every looked-up
   * entry until one verifies, else REKOR_ENTRY_MISSING. Never a downgrade to "signature only".
   */
  private async verifiedRekorEvidence(cms: GitsignCms, leaf: X509Certificate, leafDer: Buffer, oid: string, trusted: LoadedTrustedRoot) {
    const candidates = await this.candidates(cms, leafDer, oid);
    let firstError: GitsignError | undefined;
    for (const candidate of candidates) {
      try {
        const { evidence, source } = candidate();
        const integratedTime = precheckEntry(evidence.entry, leaf, trusted);
        verifyWithSigstore(messageSignatureBundle(evidence), evidence.artifact, trusted);
        return { evidence, source, integratedTime };
      } catch (err) {
        if (!(err instanceof GitsignError)) throw err;
        firstError ??= err;
      }
    }
    throw firstError ?? new GitsignError('REKOR_ENTRY_MISSING', 'Rekor has no entry for this commit');
  }

  private async candidates(cms: GitsignCms, leafDer: Buffer, oid: string): Promise<Candidate[]> {
    const timestampTokens = cms.timestampTokens;
    if (cms.rekorEntry) {
      const entry = decodeTlogEntry(cms.rekorEntry);
      const digest = sha256(cms.signedAttributes);
      const body = hashedrekordBody(digest, cms.signature, leafDer).toString('base64');
      if (entry.canonicalizedBody !== undefined && entry.canonicalizedBody !== body) {
        throw new GitsignError('REKOR_ENTRY_MISMATCH', 'the embedded Rekor entry is for other content or another certificate');
      }
      entry.canonicalizedBody = body;
      return [() => ({ evidence: { leafDer, digest, signature: cms.signature, artifact: cms.signedAttributes, entry, timestampTokens }, source: 'embedded' })];
    }
    if (!this.options.rekor) {
      throw new GitsignError('REKOR_ENTRY_MISSING', 'the signature carries no Rekor entry (gitsign online mode) and no Rekor URL is configured; sign with gitsign.rekorMode=offline or configure trust.rekorUrl');
    }
    // Online mode: gitsign logged a second signature, over the object id as hex text.
    const artifact = Buffer.from(oid, 'latin1');
    const digest = sha256(artifact);
    const entries = await this.options.rekor.entriesByHash(digest.toString('hex'));
    return entries.map((entry) => () => {
      const facts = readHashedrekordBody(Buffer.from(entry.canonicalizedBody ?? '', 'base64'));
      if (!facts.digest.equals(digest)) throw new GitsignError('REKOR_ENTRY_MISMATCH', 'the Rekor entry is for other content');
      if (!facts.certificateDer.equals(leafDer)) throw new GitsignError('REKOR_ENTRY_MISMATCH', 'the Rekor entry was made with another certificate');
      // A CMS timestamp token covers the CMS signature, not this one: it is not evidence here.
      return { evidence: { leafDer, digest, signature: facts.signature, artifact, entry }, source: 'lookup' };
    });
  }
}
