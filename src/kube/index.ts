/** Public API of the Kubernetes module: the only code that talks to the API server. */
export { KubeError, KubeErrorCode, toKubeError } from './errors.js';
export { loadKubeConfig, contextNamespace, gateNamespace, SERVICE_ACCOUNT_DIR, type KubeConfigOptions } from './config.js';
export { KubeClient, FIELD_MANAGER, type KubeClientOptions, type SecretList, type WatchHandle, type WatchHandlers, type WatchEventType } from './client.js';
export {
  SEALING_KEY_LABEL,
  SEALING_KEY_ACTIVE,
  SEALING_KEY_SELECTOR,
  SEALING_KEY_DATA_KEY,
  SEALING_KEY_ID_ANNOTATION,
  SEALING_KEY_CREATED_ANNOTATION,
  keySecretManifest,
  keySecretName,
  keyFromSecret,
} from './key-secrets.js';
export { type SealingKeySource, type KeySourceReport, type KeySourceStatus } from './tracked-keys.js';
export { KubeSealingKeySource, type KubeKeySourceOptions } from './kube-key-source.js';
export { FileSealingKeySource, type FileKeySourceOptions } from './file-key-source.js';
export {
  applySecret,
  deleteSecret,
  listDeliveredSecrets,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  UNSEALED_LABEL,
  SOURCE_ANNOTATION,
  type SecretOwner,
  type DeliveredSecret,
} from './delivery.js';
export { renewSealingKeyIfDue, startKeyRenewal, type RenewalOptions, type RenewalResult, type RenewalSchedule } from './renewal.js';
