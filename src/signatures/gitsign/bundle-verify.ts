/**
 * Verification of a Sigstore bundle (any version the library reads: message signature or DSSE,
 * Fulcio certificate or managed key) through the same layer gitsign uses: a strictly loaded
 * trusted root, explicit thresholds, exact identity matching. Used by the bundle conformance
 * suite; a future side-loaded bundle for online-mode commits would come through here too.
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { crypto as sigstoreCrypto } from '@sigstore/core';
import type { Signer } from '@sigstore/verify';
import { GitsignError } from './errors.js';
import { mapSigstoreError, verifyWithSigstore } from './sigstore.js';
import type { LoadedTrustedRoot } from './trusted-root.js';

export interface BundleVerifyRequest {
  /** The bundle as parsed JSON. */
  bundle: unknown;
  artifact: Buffer;
  trustedRoot: LoadedTrustedRoot;
  /** Certificate identity, matched exactly (SAN and OIDC issuer). */
  identity?: { subject: string; issuer: string };
  /** A managed key (PEM SPKI) instead of a certificate identity. */
  publicKeyPem?: string;
}

/** Returns the signer; throws GitsignError with a stable code. */
export function verifySigstoreBundle(request: BundleVerifyRequest): Signer {
  let bundle;
  try {
    bundle = bundleFromJSON(request.bundle);
  } catch (err) {
    throw mapSigstoreError(err);
  }
  const finder = request.publicKeyPem
    ? () => ({ publicKey: sigstoreCrypto.createPublicKey(request.publicKeyPem as string), validFor: () => true })
    : undefined;
  const signer = verifyWithSigstore(bundle, request.artifact, request.trustedRoot, finder);
  if (request.identity) {
    const got = signer.identity;
    if (got?.subjectAlternativeName !== request.identity.subject || got.extensions?.issuer !== request.identity.issuer) {
      throw new GitsignError('IDENTITY_NOT_ALLOWED', `bundle identity ${String(got?.subjectAlternativeName)} (issuer ${String(got?.extensions?.issuer)}) is not the expected one`);
    }
  }
  return signer;
}
