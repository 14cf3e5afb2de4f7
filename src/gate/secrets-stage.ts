import { asSyncgateError } from '../errors.js';
import { SOURCE_ANNOTATION, UNSEALED_LABEL, applySecret, deleteSecret } from '../kube/delivery.js';
import { SealError, isSealedSecret, unsealSealedSecret, type Secret } from '../secrets/index.js';
import { isBitnamiSealedSecret, unsealBitnamiSealedSecret } from '../secrets/bitnami.js';
import type { Reason } from './decision.js';
import { Denial } from './denial.js';
import { describeManifest, type Manifest } from './manifests.js';
import type { SealingRuntime } from './sealing-runtime.js';

/** Annotation on a delivered Secret naming the application that delivered it (for pruning). */
export const APPLICATION_ANNOTATION = 'syncgate.dev/application';

/** What a decision says about secrets: names and data keys, never values. */
export interface SecretEvidence {
  namespace: string;
  name: string;
  keys: string[];
  type: string;
  sealedSecret: { apiVersion: string; namespace: string; name: string; document: number };
  delivery: 'apiserver' | 'inline';
}

export interface SecretsOutcome {
  delivered: SecretEvidence[];
  /** Secrets this application delivered before whose SealedSecret has left Git, now deleted. */
  pruned: Array<{ namespace: string; name: string }>;
  /** Inline delivery only: the Secrets themselves, for the HTTP answer (never the audit record). */
  inline: Secret[];
}

function where(m: Manifest, fallbackNamespace?: string): string {
  const d = describeManifest(m);
  return `${d.apiVersion} SealedSecret ${d.namespace ?? fallbackNamespace ?? '(no namespace)'}/${d.name ?? '(unnamed)'}`;
}

function unsealReason(m: Manifest, err: unknown, fallbackNamespace?: string): Reason {
  const e = asSyncgateError(err, 'SEAL_UNSEAL_FAILED');
  const key = err instanceof SealError && err.dataKey ? ` (data key ${err.dataKey})` : '';
  // SealError messages name objects and keys only; they never carry a value.
  return { code: e.code, message: `${where(m, fallbackNamespace)}${key}: ${e.message}`, location: { document: m.index } };
}

/**
 * Stage 5, only after signature and policies allowed: unseal every SealedSecret for its own
 * scope (all of them first: a bad one denies before anything is written), then deliver them,
 * then prune this application's Secrets whose SealedSecret left Git.
 */
export async function deliverSecrets(
  manifests: Manifest[],
  sealing: SealingRuntime | undefined,
  application: { name?: string; project?: string; destination?: { namespace?: string } } | undefined,
  /** Aborted once the decision is answered (deadline): no write or delete starts after that. */
  signal?: AbortSignal,
): Promise<SecretsOutcome> {
  const sealed = manifests.filter((m) => isSealedSecret(m.object) || isBitnamiSealedSecret(m.object));
  const outcome: SecretsOutcome = { delivered: [], pruned: [], inline: [] };
  const defaultNamespace = application?.destination?.namespace;
  const appRef = application?.name ? `${application.project ?? 'default'}/${application.name}` : undefined;
  if (sealed.length === 0 && !appRef) return outcome;
  if (sealed.length > 0 && (!sealing || !sealing.configured)) {
    throw new Denial(
      sealed.map((m) => ({ code: 'SEALING_NOT_CONFIGURED', message: `${where(m, defaultNamespace)}: the gate has no sealing keys configured (sealing.keyFiles or sealing.kubernetes)`, location: { document: m.index } })),
    );
  }

  const unsealed: Array<{ manifest: Manifest; secret: Secret }> = [];
  const failures: Reason[] = [];
  for (const m of sealed) {
    try {
      const options = defaultNamespace ? { namespace: defaultNamespace } : {};
      const secret = isSealedSecret(m.object) ? unsealSealedSecret(m.object, sealing!.keyring, options) : unsealBitnamiSealedSecret(m.object, sealing!.bitnamiKeys, options);
      unsealed.push({ manifest: m, secret });
    } catch (err) {
      failures.push(unsealReason(m, err, defaultNamespace));
    }
  }
  if (failures.length > 0) throw new Denial(failures);

  const evidence = (m: Manifest, s: Secret): SecretEvidence => ({
    namespace: s.metadata.namespace ?? defaultNamespace ?? '',
    name: s.metadata.name,
    keys: Object.keys(s.data).sort(),
    type: s.type,
    sealedSecret: { apiVersion: String(m.object.apiVersion), namespace: s.metadata.namespace ?? defaultNamespace ?? '', name: s.metadata.name, document: m.index },
    delivery: sealing?.delivery ?? 'apiserver',
  });

  if (sealing?.delivery === 'inline') {
    for (const { manifest, secret } of unsealed) {
      outcome.delivered.push(evidence(manifest, secret));
      outcome.inline.push(secret);
    }
    return outcome;
  }

  const kube = sealing?.kube;
  if (unsealed.length > 0 && !kube) {
    throw new Denial([
      {
        code: 'SEAL_DELIVERY_UNAVAILABLE',
        message: 'SealedSecrets need delivery through the API server, which is not configured (sealing.kubernetes); or opt in to sealing.delivery: inline',
      },
    ]);
  }
  for (const { manifest, secret } of unsealed) {
    const namespace = secret.metadata.namespace ?? defaultNamespace;
    if (!namespace) {
      throw new Denial([{ code: 'SEAL_NO_NAMESPACE', message: `${where(manifest)}: no namespace, and the request names no destination namespace`, location: { document: manifest.index } }]);
    }
    const annotations = { ...secret.metadata.annotations };
    if (appRef) annotations[APPLICATION_ANNOTATION] = appRef;
    else delete annotations[APPLICATION_ANNOTATION];
    try {
      signal?.throwIfAborted();
      await applySecret(kube!, { ...secret, metadata: { ...secret.metadata, namespace, annotations } }, { apiVersion: String(manifest.object.apiVersion), kind: 'SealedSecret', name: secret.metadata.name, namespace }, {
        adopt: sealing!.adoptExisting,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      const e = asSyncgateError(err, 'KUBE_ERROR');
      const done = outcome.delivered.map((d) => `${d.namespace}/${d.name}`).join(', ');
      throw new Denial([
        {
          code: e.code,
          message: `${where(manifest, namespace)}: the Secret could not be written: ${e.message}${done ? ` (already written in this sync: ${done})` : ''}`,
          location: { document: manifest.index },
        },
      ]);
    }
    outcome.delivered.push(evidence(manifest, { ...secret, metadata: { ...secret.metadata, namespace } }));
  }

  signal?.throwIfAborted();
  if (appRef && kube) outcome.pruned = await pruneLeftovers(kube, appRef, outcome.delivered, defaultNamespace, signal);
  return outcome;
}

/** Deletes Secrets this application delivered earlier whose SealedSecret is no longer in Git. */
async function pruneLeftovers(
  kube: NonNullable<SealingRuntime['kube']>,
  appRef: string,
  delivered: SecretEvidence[],
  defaultNamespace: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Array<{ namespace: string; name: string }>> {
  const namespaces = new Set(delivered.map((d) => d.namespace));
  if (defaultNamespace) namespaces.add(defaultNamespace);
  const current = new Set(delivered.map((d) => `${d.namespace}/${d.name}`));
  const pruned: Array<{ namespace: string; name: string }> = [];
  for (const namespace of namespaces) {
    try {
      const { items } = await kube.listSecrets(namespace, `${UNSEALED_LABEL}=true`);
      for (const s of items) {
        const name = s.metadata?.name;
        const source = s.metadata?.annotations?.[SOURCE_ANNOTATION];
        if (!name || s.metadata?.annotations?.[APPLICATION_ANNOTATION] !== appRef || !source || current.has(source)) continue;
        const [ownerNs, ownerName] = source.split('/') as [string, string];
        signal?.throwIfAborted();
        if (await deleteSecret(kube, namespace, name, { namespace: ownerNs, name: ownerName }, signal)) pruned.push({ namespace, name });
      }
    } catch (err) {
      const e = asSyncgateError(err, 'KUBE_ERROR');
      throw new Denial([{ code: e.code, message: `pruning Secrets whose SealedSecret left Git failed in namespace ${namespace}: ${e.message}` }]);
    }
  }
  return pruned;
}
