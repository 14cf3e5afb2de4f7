/** gitsign (Sigstore keyless, CMS) signatures: see verifier.ts for the steps. */
export { verifySigstoreBundle } from './bundle-verify.js';
export type { BundleVerifyRequest } from './bundle-verify.js';
export { GitsignError } from './errors.js';
export { authorizeGitsign, identityMatches } from './policy.js';
export { RekorClient } from './rekor-client.js';
export type { RekorClientOptions, RekorLookup } from './rekor-client.js';
export { TrustedRootStore, loadTrustedRootFile, parseTrustedRoot } from './trusted-root.js';
export type { LoadedTrustedRoot, TrustedRootReload, TrustedRootSource } from './trusted-root.js';
export { GitsignVerifier } from './verifier.js';
export type { GitsignVerifierOptions } from './verifier.js';

import type { TrustConfig } from '../../config/trust.js';
import { ConfigError } from '../../errors.js';
import { GitsignError } from './errors.js';
import { RekorClient } from './rekor-client.js';
import { TrustedRootStore } from './trusted-root.js';
import { GitsignVerifier } from './verifier.js';

/**
 * The gitsign verifier for a trust configuration, and the trusted-root store behind it (absent
 * when trust.trustedRoot is not set: gitsign signatures are then TRUSTED_ROOT_MISSING).
 * Throws ConfigError TRUSTED_ROOT_INVALID when the configured root cannot be loaded.
 */
export async function gitsignFromTrust(trust: Pick<TrustConfig, 'trustedRoot' | 'rekorUrl'>): Promise<{ verifier: GitsignVerifier; store?: TrustedRootStore }> {
  if (!trust.trustedRoot) return { verifier: new GitsignVerifier() };
  let store: TrustedRootStore;
  try {
    store = await TrustedRootStore.open(trust.trustedRoot);
  } catch (err) {
    if (err instanceof GitsignError) throw new ConfigError('TRUSTED_ROOT_INVALID', err.message, { file: trust.trustedRoot }, { cause: err });
    throw err;
  }
  const rekor = trust.rekorUrl ? new RekorClient({ url: trust.rekorUrl }) : undefined;
  return { verifier: new GitsignVerifier({ trustedRoot: store, ...(rekor ? { rekor } : {}) }), store };
}
