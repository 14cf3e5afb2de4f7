import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeError, KubeErrorCode } from './errors.js';

/** Where the service account files are mounted in a pod. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigOptions {
  /** A kubeconfig file; otherwise $KUBECONFIG, then in-cluster, then ~/.kube/config. */
  kubeconfig?: string;
  /** Force the in-cluster service account (token, CA, KUBERNETES_SERVICE_HOST/PORT). */
  inCluster?: boolean;
  /** Use this context of the kubeconfig instead of its current-context. */
  context?: string;
  /**
   * Test hook and escape hatch: talk to this server URL (e.g. `http://127.0.0.1:PORT`) with an
   * optional bearer token, ignoring every other source.
   */
  server?: { url: string; token?: string };
  /** Environment to read KUBECONFIG, KUBERNETES_SERVICE_HOST from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

function configError(message: string): KubeError {
  return new KubeError(KubeErrorCode.ConfigInvalid, message);
}

/**
 * Loads the client configuration. In a pod with no kubeconfig given, the service account is used.
 * The result always has a current cluster, or a KUBE_CONFIG_INVALID error says why not.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): KubeConfig {
  const env = options.env ?? process.env;
  const kc = new KubeConfig();
  try {
    if (options.server) {
      const url = new URL(options.server.url);
      kc.loadFromOptions({
        // client-node refuses plain http unless TLS verification is "skipped"; there is no TLS to verify then.
        clusters: [{ name: 'syncgate', server: url.toString().replace(/\/$/, ''), skipTLSVerify: url.protocol === 'http:' }],
        users: [{ name: 'syncgate', ...(options.server.token !== undefined ? { token: options.server.token } : {}) }],
        contexts: [{ name: 'syncgate', cluster: 'syncgate', user: 'syncgate' }],
        currentContext: 'syncgate',
      });
    } else if (options.kubeconfig !== undefined) {
      if (!existsSync(options.kubeconfig)) throw configError(`kubeconfig ${options.kubeconfig} does not exist`);
      kc.loadFromFile(options.kubeconfig);
    } else if (options.inCluster) {
      if (!env.KUBERNETES_SERVICE_HOST) throw configError('in-cluster configuration requested but KUBERNETES_SERVICE_HOST is not set (not running in a pod?)');
      kc.loadFromCluster();
    } else if (env.KUBECONFIG) {
      const files = env.KUBECONFIG.split(':').filter((f) => f.length > 0);
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length === files.length) throw configError(`KUBECONFIG names no existing file (${files.join(', ')})`);
      kc.loadFromFile(files.find((f) => existsSync(f))!);
    } else {
      kc.loadFromDefault();
    }
    if (options.context !== undefined) {
      if (!kc.getContextObject(options.context)) throw configError(`kubeconfig has no context "${options.context}"`);
      kc.setCurrentContext(options.context);
    }
  } catch (err) {
    if (err instanceof KubeError) throw err;
    // client-node's messages quote file names and YAML positions, never credentials.
    throw configError(`cannot load the Kubernetes client configuration: ${(err as Error).message.split('\n')[0]}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster || !cluster.server) throw configError('the Kubernetes client configuration has no current cluster (set KUBECONFIG, give --kubeconfig, or run in a pod)');
  return kc;
}

/** The namespace of the current context, when the kubeconfig sets one. */
export function contextNamespace(kc: KubeConfig): string | undefined {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return ctx?.namespace || undefined;
}

/**
 * The gate's own namespace: POD_NAMESPACE (downward API), then the service account's namespace
 * file, then undefined (the caller must then be told explicitly).
 */
export function gateNamespace(env: NodeJS.ProcessEnv = process.env, serviceAccountDir = SERVICE_ACCOUNT_DIR): string | undefined {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const ns = readFileSync(`${serviceAccountDir}/namespace`, 'utf8').trim();
    return ns.length > 0 ? ns : undefined;
  } catch {
    return undefined;
  }
}
