import type { TrustConfig } from '../config/trust.js';
import { gitsignFromTrust } from '../signatures/gitsign/index.js';
import type { TrustedRootReload, TrustedRootStore } from '../signatures/gitsign/index.js';
import { loadKeyring } from '../signatures/keyring.js';
import { type SshTrustReload, type SshVerifier, loadSshVerifier } from '../signatures/ssh/index.js';
import { SignatureVerifier } from '../signatures/verify.js';

const trustedRoots = new WeakMap<SignatureVerifier, TrustedRootStore>();

const sshVerifiers = new WeakMap<SignatureVerifier, SshVerifier>();

/** Loads the keyrings (and the Sigstore trusted root) named in the trust configuration and builds the verifier over them. */
export async function loadTrustMaterial(trust: TrustConfig): Promise<SignatureVerifier> {
  const keyring = await loadKeyring(trust.keyrings);
  const gitsign = await gitsignFromTrust(trust);
  const ssh = await loadSshVerifier(trust);
  const verifier = new SignatureVerifier({ keyring, trust, methods: [gitsign.verifier, ssh] });
  sshVerifiers.set(verifier, ssh);
  if (gitsign.store) trustedRoots.set(verifier, gitsign.store);
  return verifier;
}

/**
 * Rereads trust.trustedRoot for a verifier built by loadTrustMaterial (call it on a timer or a file
 * watch). A changed, valid root is used from the next decision on and the verifier's cached
 * outcomes are dropped; a bad one keeps the last good root and comes back as status
 * "kept-last-good" with its error. undefined when the verifier has no trusted root. Never throws.
 */
export async function reloadTrustedRoot(verifier: SignatureVerifier): Promise<TrustedRootReload | undefined> {
  return trustedRoots.get(verifier)?.reload();
}

/**
 * Rereads trust.allowedSigners and trust.sshRevokedKeys for a verifier built by loadTrustMaterial
 * (call it when watchTrustFiles reports a change). A changed, valid set is used from the next
 * decision on and cached outcomes are dropped; a bad one keeps the last good set and comes back as
 * status "kept-last-good" with its error (file and line). Never throws.
 */
export async function reloadSshTrust(verifier: SignatureVerifier): Promise<SshTrustReload | undefined> {
  return sshVerifiers.get(verifier)?.reload();
}
