/** SSH commit and tag signatures (git's gpg.format=ssh): see verifier.ts for the check order. */
export { type AllowedSigner, type ParseAllowedSignersOptions, parseAllowedSigners, parseSshTime } from './allowed-signers.js';
export { DEFAULT_SSH_RULE } from './judge.js';
export { matchPattern, matchPatternList } from './patterns.js';
export { type RevokedKey, parseRevokedKeys } from './revoked-keys.js';
export { type Sshsig, parseSshsig, sshsigSignedData } from './sshsig.js';
export { type SshTrustContents, type SshTrustFiles, SshTrustStore, readSshTrustFiles } from './trust-store.js';
export { GIT_NAMESPACE, type SshTrustReload, type SshTrustSource, SshVerifier } from './verifier.js';

import type { TrustConfig } from '../../config/trust.js';
import { SshVerifier } from './verifier.js';

/** The SSH method verifier for trust.allowedSigners / trust.sshRevokedKeys (reloadable). Throws ConfigError. */
export function loadSshVerifier(trust: Pick<TrustConfig, 'allowedSigners' | 'sshRevokedKeys' | 'allowedSignersInvalidLines'>): Promise<SshVerifier> {
  return SshVerifier.load({ allowedSigners: trust.allowedSigners ?? [], revokedKeys: trust.sshRevokedKeys ?? [], invalidLines: trust.allowedSignersInvalidLines ?? 'reject' });
}
