import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { ConfigError, asSyncgateError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { FileSealingKeySource } from '../kube/file-key-source.js';
import type { KeySourceReport, SealingKeySource } from '../kube/tracked-keys.js';
import type { Logger } from '../log.js';
import { SealingKeyring, parseBitnamiPrivateKeys } from '../secrets/index.js';

export interface SealingRuntime {
  keyring: SealingKeyring;
  bitnamiKeys: KeyObject[];
  /** Whether any sealing key source is configured. */
  configured: boolean;
  delivery: Config['sealing']['delivery'];
  adoptExisting: boolean;
  /** The API server client, when one is configured (needed for apiserver delivery). */
  kube: KubeClient | undefined;
  notReady: () => string | undefined;
  ready: Promise<void>;
  close: () => Promise<void>;
}

/**
 * Reports key source events as logs, and changes after the initial load as `keys.reload`
 * security events; never with key material.
 */
function reporter(logger: Logger, record: (event: Record<string, unknown>) => void, source: string, started: () => boolean) {
  return (r: KeySourceReport) => {
    const { event, ...detail } = r;
    if (event === 'error' || event === 'key-invalid') logger.error({ source, ...detail }, `sealing keys: ${event}`);
    else logger.info({ source, ...detail }, `sealing keys: ${event}`);
    if (event !== 'synced' && started()) record({ type: 'keys.reload', what: 'sealing', source, event, ...detail });
  };
}

/**
 * Starts the configured sealing key sources (files and/or the key Secrets in a namespace, one
 * shared keyring), optional automatic renewal, and the API server client used for delivery.
 */
export function createSealingRuntime(config: Config['sealing'], logger: Logger, record: (event: Record<string, unknown>) => void): SealingRuntime {
  const keyring = new SealingKeyring();
  const sources: SealingKeySource[] = [];
  let kube: KubeClient | undefined;
  let kubeNamespace: string | undefined;
  let problem: string | undefined;
  const bitnamiKeys: KeyObject[] = [];
  let stopRenewal: (() => void) | undefined;
  let started = false;
  const isStarted = () => started;

  if (config.keyFiles.length > 0) {
    sources.push(new FileSealingKeySource({ paths: config.keyFiles, keyring, onReport: reporter(logger, record, 'files', isStarted) }));
  }
  // The Kubernetes client is loaded only when sealing.kubernetes is set (from tsc's output,
  // client-node's index loads every generated API: ~0.4 s and ~85 MiB; the bundle keeps only its
  // KubeConfig). Until it is loaded and the key source added, the runtime reports itself as not ready.
  let kubePending = config.kubernetes !== undefined;
  const setUpKube = async (kc: NonNullable<Config['sealing']['kubernetes']>) => {
    try {
      const { KubeClient, KubeSealingKeySource, gateNamespace, loadKubeConfig } = await import('../kube/index.js');
      kube = new KubeClient(
        loadKubeConfig({
          ...(kc.kubeconfig ? { kubeconfig: kc.kubeconfig } : { inCluster: true }),
          ...(kc.context ? { context: kc.context } : {}),
        }),
      );
      kubeNamespace = kc.namespace ?? gateNamespace();
      if (!kubeNamespace) throw new ConfigError('SEALING_NAMESPACE_UNKNOWN', 'sealing.kubernetes.namespace is not set and the gate cannot tell its own namespace (POD_NAMESPACE)');
      sources.push(new KubeSealingKeySource({ client: kube, namespace: kubeNamespace, keyring, onReport: reporter(logger, record, `kubernetes:${kubeNamespace}`, isStarted) }));
    } catch (err) {
      const e = asSyncgateError(err);
      problem = `sealing keys from Kubernetes are unavailable: ${e.code}: ${e.message}`;
      logger.error({ code: e.code, err: e.message }, 'sealing keys from Kubernetes are unavailable; syncs with SealedSecrets are denied');
    } finally {
      kubePending = false;
    }
  };

  const ready = (async () => {
    if (config.kubernetes) await setUpKube(config.kubernetes);
    for (const file of config.bitnamiKeyFiles) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new ConfigError('BITNAMI_KEY_UNREADABLE', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file });
      }
      bitnamiKeys.push(...parseBitnamiPrivateKeys(text, file));
    }
    await Promise.all(sources.map((s) => s.start()));
    started = true;
    if (kube && kubeNamespace && config.kubernetes && config.kubernetes.renewalDays > 0) {
      const { startKeyRenewal } = await import('../kube/renewal.js');
      const renewal = startKeyRenewal({
        client: kube,
        namespace: kubeNamespace,
        keyring,
        periodMs: config.kubernetes.renewalDays * 86_400_000,
        createIfNone: true,
        ready: () => sources.every((s) => s.status().synced),
        onResult: (r) => logger.info({ renewal: r }, 'sealing key renewal'),
        onError: (err) => logger.error({ err: err.message }, 'sealing key renewal failed'),
      });
      stopRenewal = () => renewal.stop();
    }
  })();
  ready.catch((err: unknown) => {
    const e = asSyncgateError(err);
    problem = `sealing keys could not be loaded: ${e.code}: ${e.message}`;
    logger.error({ code: e.code, err: e.message }, 'sealing keys could not be loaded');
  });

  return {
    keyring,
    bitnamiKeys,
    get configured() {
      return sources.length > 0 || kubePending || config.bitnamiKeyFiles.length > 0;
    },
    delivery: config.delivery,
    adoptExisting: config.adoptExisting,
    get kube() {
      return kube;
    },
    notReady: () => problem ?? (!kubePending && sources.every((s) => s.status().synced) ? undefined : 'sealing keys are loading'),
    ready,
    close: async () => {
      stopRenewal?.();
      await Promise.all(sources.map((s) => s.stop().catch(() => {})));
    },
  };
}

