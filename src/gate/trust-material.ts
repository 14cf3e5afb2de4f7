import type { TrustConfig } from '../config/trust.js';
import { loadKeyring } from '../signatures/keyring.js';
import { SignatureVerifier } from '../signatures/verify.js';

/** Loads the keyrings named in the trust configuration and builds the verifier over them. */
export async function loadTrustMaterial(trust: TrustConfig): Promise<SignatureVerifier> {
  const keyring = await loadKeyring(trust.keyrings);
  return new SignatureVerifier({ keyring, trust });
}
