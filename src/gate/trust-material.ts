import type { TrustConfig } from '../config/trust.js';
import { ConfigError } from '../errors.js';
import type { TrustedRootReload, TrustedRootStore } from '../signatures/gitsign/index.js';
import { loadKeyring } from '../signatures/keyring.js';
import { LazyMethodVerifier } from '../signatures/lazy-method.js';
import type { MethodVerifier } from '../signatures/method.js';
import type { SshTrustReload, SshVerifier } from '../signatures/ssh/index.js';
import { SignatureVerifier } from '../signatures/verify.js';

const trustedRoots = new WeakMap<SignatureVerifier, TrustedRootStore>();

const sshVerifiers = new WeakMap<SignatureVerifier, SshVerifier>();

/** A verifier module the configuration needs; a failure to load it is a coded error (the gate stays not ready). */
async function loadModule<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw new ConfigError('VERIFIER_LOAD_ERROR', `the ${what} verifier could not be loaded: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
  }
}

/**
 * Loads the keyrings (and the Sigstore trusted root) named in the trust configuration and builds the verifier over them.
 * The gitsign code (with the Sigstore libraries) is loaded here only when trust.trustedRoot is set,
 * the SSH code only when allowed-signers or revoked-keys files are: without them such signatures
 * can only be denied, and their verifier is loaded on the first one (LazyMethodVerifier), which
 * denies it with the same reason.
 */
export async function loadTrustMaterial(trust: TrustConfig): Promise<SignatureVerifier> {
  const keyring = await loadKeyring(trust.keyrings);
  const methods: MethodVerifier[] = [];

  let store: TrustedRootStore | undefined;
  if (trust.trustedRoot) {
    const { gitsignFromTrust } = await loadModule('gitsign', () => import('../signatures/gitsign/index.js'));
    const gitsign = await gitsignFromTrust(trust);
    store = gitsign.store;
    methods.push(gitsign.verifier);
  } else {
    methods.push(new LazyMethodVerifier('gitsign', async () => new (await import('../signatures/gitsign/verifier.js')).GitsignVerifier()));
  }

  let ssh: SshVerifier | undefined;
  const sshFiles = (trust.allowedSigners?.length ?? 0) + (trust.sshRevokedKeys?.length ?? 0);
  if (sshFiles > 0) {
    const { loadSshVerifier } = await loadModule('ssh', () => import('../signatures/ssh/index.js'));
    ssh = await loadSshVerifier(trust);
    methods.push(ssh);
  } else {
    methods.push(new LazyMethodVerifier('ssh', async () => (await import('../signatures/ssh/index.js')).loadSshVerifier(trust)));
  }

  const verifier = new SignatureVerifier({ keyring, trust, methods });
  if (ssh) sshVerifiers.set(verifier, ssh);
  if (store) trustedRoots.set(verifier, store);
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
 * status "kept-last-good" with its error (file and line). undefined when the configuration names
 * no SSH trust files. Never throws.
 */
export async function reloadSshTrust(verifier: SignatureVerifier): Promise<SshTrustReload | undefined> {
  return sshVerifiers.get(verifier)?.reload();
}
