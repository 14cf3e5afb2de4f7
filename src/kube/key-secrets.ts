import type { V1Secret } from '@kubernetes/client-node';
import { formatPrivateKey, parsePrivateKey, type SealingKey } from '../secrets/index.js';
import { KubeError, KubeErrorCode } from './errors.js';

/**
 * Sealing keys held as Kubernetes Secrets in the gate's namespace (docs/sealing.md, "Using it").
 * Only Secrets labelled `syncgate.dev/sealing-key: active` are loaded; relabelling a key
 * (e.g. `retired`, `compromised`) or deleting its Secret takes it out of the keyring.
 */
export const SEALING_KEY_LABEL = 'syncgate.dev/sealing-key';
export const SEALING_KEY_ACTIVE = 'active';
export const SEALING_KEY_SELECTOR = `${SEALING_KEY_LABEL}=${SEALING_KEY_ACTIVE}`;
/** The data key holding the private key file text (docs/sealing.md §2). */
export const SEALING_KEY_DATA_KEY = 'sealing.key';
export const SEALING_KEY_ID_ANNOTATION = 'syncgate.dev/key-id';
export const SEALING_KEY_CREATED_ANNOTATION = 'syncgate.dev/created';

export function keySecretName(key: SealingKey): string {
  return `syncgate-sealing-key-${key.keyId}`;
}

/** The Secret that holds one sealing key (what `keys generate --format k8s` prints). */
export function keySecretManifest(key: SealingKey, namespace?: string): V1Secret & { apiVersion: 'v1'; kind: 'Secret' } {
  const annotations: Record<string, string> = { [SEALING_KEY_ID_ANNOTATION]: key.keyId };
  if (key.created) annotations[SEALING_KEY_CREATED_ANNOTATION] = key.created.toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: keySecretName(key),
      ...(namespace !== undefined ? { namespace } : {}),
      labels: { [SEALING_KEY_LABEL]: SEALING_KEY_ACTIVE },
      annotations,
    },
    type: 'Opaque',
    immutable: true,
    data: { [SEALING_KEY_DATA_KEY]: Buffer.from(formatPrivateKey(key), 'utf8').toString('base64') },
  };
}

export function secretRef(secret: V1Secret): string {
  return `${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? '(unnamed)'}`;
}

/**
 * The key a Secret holds. Errors name the Secret and what is wrong, never key bytes:
 * KUBE_KEY_SECRET_INVALID for the Secret's shape, SEAL_KEY_* (from src/secrets) for the key text.
 */
export function keyFromSecret(secret: V1Secret): SealingKey {
  const ref = secretRef(secret);
  const encoded = secret.data?.[SEALING_KEY_DATA_KEY];
  if (typeof encoded !== 'string' || encoded.length === 0) {
    throw new KubeError(KubeErrorCode.KeySecretInvalid, `sealing key Secret ${ref} has no data key "${SEALING_KEY_DATA_KEY}"`);
  }
  if (encoded.length > 16_384 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) {
    throw new KubeError(KubeErrorCode.KeySecretInvalid, `sealing key Secret ${ref}: data "${SEALING_KEY_DATA_KEY}" is not valid base64 of a key file`);
  }
  return parsePrivateKey(Buffer.from(encoded, 'base64').toString('utf8'), `Secret ${ref} data "${SEALING_KEY_DATA_KEY}"`);
}
