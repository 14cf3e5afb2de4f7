import type { V1Secret } from '@kubernetes/client-node';
import type { Secret } from '../secrets/index.js';
import type { KubeClient } from './client.js';
import { KubeError, KubeErrorCode } from './errors.js';
import { SEALING_KEY_LABEL } from './key-secrets.js';

/** Every Secret the gate writes carries these, so it can find (and only ever delete) its own. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'syncgate';
export const UNSEALED_LABEL = 'syncgate.dev/unsealed';
export const UNSEALED_SELECTOR = `${UNSEALED_LABEL}=true`;
/** `namespace/name` of the SealedSecret a Secret was unsealed from. */
export const SOURCE_ANNOTATION = 'syncgate.dev/sealed-secret';

/** The SealedSecret a delivered Secret belongs to. With `uid`, an ownerReference is set too (garbage collection). */
export interface SecretOwner {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

/** What was written: names and data keys only, never values. */
export interface DeliveredSecret {
  namespace: string;
  name: string;
  keys: string[];
  resourceVersion: string | undefined;
}

function ref(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function isOurs(secret: V1Secret): boolean {
  const labels = secret.metadata?.labels ?? {};
  return labels[UNSEALED_LABEL] === 'true' && labels[SEALING_KEY_LABEL] === undefined;
}

/**
 * Writes an unsealed Secret with server-side apply (field manager `syncgate`, force), labelled as
 * syncgate's and annotated with its SealedSecret. Fields syncgate applied before and no longer
 * applies (a data key removed from the SealedSecret) are removed by the API server.
 * An existing Secret that syncgate did not write is refused (KUBE_NOT_OWNED) unless `adopt`.
 */
export async function applySecret(client: KubeClient, secret: Secret, owner: SecretOwner, options: { adopt?: boolean; signal?: AbortSignal } = {}): Promise<DeliveredSecret> {
  const name = secret.metadata.name;
  const namespace = secret.metadata.namespace ?? owner.namespace;
  if (namespace !== owner.namespace || name !== owner.name) {
    throw new KubeError(KubeErrorCode.Invalid, `Secret ${ref(namespace, name)} must land at its SealedSecret's place ${ref(owner.namespace, owner.name)}`);
  }
  const existing = await client.getSecret(namespace, name);
  // The caller gave up (its decision is already answered): no write may start after that.
  options.signal?.throwIfAborted();
  if (existing && !isOurs(existing) && !options.adopt) {
    throw new KubeError(
      KubeErrorCode.NotOwned,
      `Secret ${ref(namespace, name)} already exists and was not written by syncgate; refusing to overwrite it (delete it, or allow adoption)`,
    );
  }
  const body: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: { ...secret.metadata.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [UNSEALED_LABEL]: 'true' },
      annotations: { ...secret.metadata.annotations, [SOURCE_ANNOTATION]: ref(owner.namespace, owner.name) },
      ...(owner.uid
        ? { ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: false }] }
        : {}),
    },
    type: secret.type,
    ...(secret.immutable !== undefined ? { immutable: secret.immutable } : {}),
    data: secret.data,
  };
  const applied = await client.applySecretManifest(namespace, name, body);
  return { namespace, name, keys: Object.keys(secret.data).sort(), resourceVersion: applied.metadata?.resourceVersion };
}

/**
 * Deletes a Secret syncgate delivered (its SealedSecret left Git). Refuses a Secret that is not
 * syncgate's or belongs to another SealedSecret; the delete is guarded by uid and resourceVersion
 * so a Secret replaced meanwhile is not removed (KUBE_CONFLICT). False when already gone.
 */
export async function deleteSecret(client: KubeClient, namespace: string, name: string, owner?: Pick<SecretOwner, 'namespace' | 'name'>, signal?: AbortSignal): Promise<boolean> {
  const existing = await client.getSecret(namespace, name);
  signal?.throwIfAborted();
  if (!existing) return false;
  if (!isOurs(existing)) {
    throw new KubeError(KubeErrorCode.NotOwned, `Secret ${ref(namespace, name)} was not written by syncgate; refusing to delete it`);
  }
  const source = existing.metadata?.annotations?.[SOURCE_ANNOTATION];
  if (owner && source !== ref(owner.namespace, owner.name)) {
    throw new KubeError(KubeErrorCode.NotOwned, `Secret ${ref(namespace, name)} belongs to SealedSecret ${source ?? '(none)'}, not ${ref(owner.namespace, owner.name)}; refusing to delete it`);
  }
  const uid = existing.metadata?.uid;
  const resourceVersion = existing.metadata?.resourceVersion;
  return client.deleteSecretObject(namespace, name, { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) });
}

/** The Secrets syncgate delivered in a namespace, with the SealedSecret each came from (no values). */
export async function listDeliveredSecrets(client: KubeClient, namespace: string): Promise<{ namespace: string; name: string; sealedSecret: string | undefined }[]> {
  const { items } = await client.listSecrets(namespace, UNSEALED_SELECTOR);
  return items.filter(isOurs).map((s) => ({ namespace, name: s.metadata?.name ?? '', sealedSecret: s.metadata?.annotations?.[SOURCE_ANNOTATION] }));
}
