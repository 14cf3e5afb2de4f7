/** Public API of the sealing library (docs/sealing.md). */
export { SealError, SealErrorCode } from './errors.js';
export {
  SEALED_SECRET_API_VERSION,
  SEALED_SECRET_KIND,
  SCOPES,
  MAX_VALUE_BYTES,
  isScope,
  type Scope,
  type SealedSecret,
  type Secret,
  type SecretTemplate,
  type SealTarget,
} from './format.js';
export {
  SealingKey,
  SealingPublicKey,
  generateSealingKey,
  formatPrivateKey,
  formatPublicKey,
  parsePrivateKey,
  parsePublicKey,
  readPrivateKeyFile,
  readPublicKeyFile,
  writeKeyFiles,
} from './keys.js';
export { SealingKeyring } from './keyring.js';
export { sealSecret, sealValue, mergeInto, type SealSecretOptions, type SealValueTarget } from './seal.js';
export { unsealSealedSecret, checkSealedSecret, reseal, sealedKeyIds, type UnsealOptions, type UnsealCheck } from './unseal.js';
export { isSealedSecret, parseSealedSecret } from './sealed-secret-manifest.js';
export { isSecretManifest, parseSecretManifest } from './secret-manifest.js';
export {
  BITNAMI_API_VERSION,
  isBitnamiSealedSecret,
  bitnamiScope,
  parseBitnamiPrivateKeys,
  unsealBitnamiSealedSecret,
  convertBitnamiSealedSecret,
} from './bitnami.js';
