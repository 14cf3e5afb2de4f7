import {
  CoreV1Api,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  type RequestContext,
  type ResponseContext,
  type V1Secret,
  Watch,
} from '@kubernetes/client-node';
import { type KubeConfigOptions, loadKubeConfig } from './config.js';
import { type KubeOperation, KubeError, KubeErrorCode, toKubeError } from './errors.js';

/** The field manager of every write syncgate makes (server-side apply). */
export const FIELD_MANAGER = 'syncgate';

export interface KubeClientOptions {
  /** Bound on one request, connection to last byte (default 10 s). Watches use `watchTimeoutSeconds` instead. */
  requestTimeoutMs?: number;
}

export interface SecretList {
  items: V1Secret[];
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchHandlers {
  onEvent(type: WatchEventType, secret: V1Secret): void;
  /** The watch ended: `err` undefined when the server closed it normally (re-watch from the last resourceVersion). */
  onEnd(err: KubeError | undefined): void;
}

export interface WatchHandle {
  stop(): void;
}

function timeoutMiddleware(ms: number): ObservableMiddleware {
  return {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(ms));
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
}

function headerMiddleware(name: string, value: string): ObservableMiddleware {
  return {
    pre: (ctx: RequestContext) => {
      ctx.setHeaderParam(name, value);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
}

/**
 * The only code that talks to the API server: a handful of Secret operations through
 * @kubernetes/client-node, each bounded in time and failing with a KubeError.
 */
export class KubeClient {
  private readonly core: CoreV1Api;
  private readonly timeoutMs: number;

  constructor(
    readonly config: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    this.core = config.makeApiClient(CoreV1Api);
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  static fromOptions(options: KubeConfigOptions & KubeClientOptions = {}): KubeClient {
    return new KubeClient(loadKubeConfig(options), options);
  }

  private options(extra: ObservableMiddleware[] = []) {
    return { middleware: [timeoutMiddleware(this.timeoutMs), ...extra], middlewareMergeStrategy: 'append' as const };
  }

  private async call<T>(op: KubeOperation, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toKubeError(err, op);
    }
  }

  async listSecrets(namespace: string, labelSelector: string): Promise<SecretList> {
    const list = await this.call({ verb: 'list', resource: 'secrets', namespace }, () =>
      this.core.listNamespacedSecret({ namespace, labelSelector }, this.options()),
    );
    const resourceVersion = list.metadata?.resourceVersion;
    if (!resourceVersion) throw new KubeError(KubeErrorCode.Unexpected, `list secrets in namespace ${namespace}: the answer has no resourceVersion`);
    return { items: list.items ?? [], resourceVersion };
  }

  /** undefined when the Secret does not exist. */
  async getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.call({ verb: 'get', resource: 'secrets', namespace, name }, () => this.core.readNamespacedSecret({ namespace, name }, this.options()));
    } catch (err) {
      if (err instanceof KubeError && err.code === KubeErrorCode.NotFound) return undefined;
      throw err;
    }
  }

  /** POST: fails with KUBE_CONFLICT (AlreadyExists) rather than replace an existing Secret. */
  async createSecret(namespace: string, secret: V1Secret): Promise<V1Secret> {
    const name = secret.metadata?.name;
    return this.call({ verb: 'create', resource: 'secrets', namespace, ...(name ? { name } : {}) }, () =>
      this.core.createNamespacedSecret({ namespace, body: secret, fieldManager: FIELD_MANAGER }, this.options()),
    );
  }

  /** Server-side apply (PATCH application/apply-patch+yaml, fieldManager syncgate, force). */
  async applySecretManifest(namespace: string, name: string, secret: V1Secret): Promise<V1Secret> {
    return this.call({ verb: 'patch', resource: 'secrets', namespace, name }, () =>
      this.core.patchNamespacedSecret(
        { namespace, name, body: secret, fieldManager: FIELD_MANAGER, force: true },
        this.options([headerMiddleware('Content-Type', PatchStrategy.ServerSideApply)]),
      ),
    );
  }

  /**
   * DELETE, guarded by preconditions when given (a Secret recreated since it was read is not
   * deleted: KUBE_CONFLICT). Returns false when it was already gone.
   */
  async deleteSecretObject(namespace: string, name: string, preconditions?: { uid?: string; resourceVersion?: string }): Promise<boolean> {
    try {
      await this.call({ verb: 'delete', resource: 'secrets', namespace, name }, () =>
        this.core.deleteNamespacedSecret({ namespace, name, ...(preconditions ? { body: { preconditions } } : {}) }, this.options()),
      );
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.code === KubeErrorCode.NotFound) return false;
      throw err;
    }
  }

  /**
   * Streams changes after `resourceVersion`. A 410 Gone (the version was compacted) arrives as an
   * ERROR event and ends the watch with KUBE_GONE: the caller must list again.
   */
  async watchSecrets(namespace: string, labelSelector: string, resourceVersion: string, handlers: WatchHandlers, timeoutSeconds = 25): Promise<WatchHandle> {
    const op: KubeOperation = { verb: 'watch', resource: 'secrets', namespace };
    let ended = false;
    let pendingError: KubeError | undefined;
    const end = (err: KubeError | undefined) => {
      if (ended) return;
      ended = true;
      handlers.onEnd(err);
    };
    const watch = new Watch(this.config);
    let controller: AbortController | undefined;
    try {
      controller = await watch.watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
        { labelSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        (type: string, obj: unknown) => {
          if (ended || pendingError) return;
          if (type === 'ERROR') {
            const code = (obj as { code?: unknown } | undefined)?.code;
            const status = typeof code === 'number' ? code : 500;
            pendingError = toKubeError({ code: status, body: obj }, op);
            controller?.abort();
            end(pendingError);
            return;
          }
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED' || type === 'BOOKMARK') handlers.onEvent(type, obj as V1Secret);
        },
        (err: unknown) => end(pendingError ?? (err ? toKubeError(err, op) : undefined)),
      );
    } catch (err) {
      end(toKubeError(err, op));
    }
    return {
      stop: () => {
        end(undefined);
        controller?.abort();
      },
    };
  }
}

