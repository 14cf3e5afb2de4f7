import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { type KubeConfigOptions, loadKubeConfig } from './config.js';
import { type KubeOperation, KubeError, KubeErrorCode, toKubeError } from './errors.js';
import { KubeTransport, type KubeTransportOptions } from './transport.js';

/** The field manager of every write syncgate makes (server-side apply). */
export const FIELD_MANAGER = 'syncgate';

export interface KubeClientOptions extends KubeTransportOptions {
  /**
   * Bound on one request from preparing its credentials (an exec plugin) to its last byte
   * (default 10 s). A watch gets it up to its headers, and its `timeoutSeconds` plus this for its
   * whole length.
   */
  requestTimeoutMs?: number;
}

export interface SecretList {
  items: V1Secret[];
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchHandlers {
  onEvent(type: WatchEventType, secret: V1Secret): void;
  /**
   * The watch ended, called once: `err` undefined when the server closed it normally (re-watch
   * from the last resourceVersion). Called from a socket's event or a timer, where a throw would
   * be an uncaught exception, so a throw is dropped: the handler must not rely on it.
   */
  onEnd(err: KubeError | undefined): void;
}

export interface WatchHandle {
  stop(): void;
}

const secretsPath = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
const secretPath = (namespace: string, name: string) => `${secretsPath(namespace)}/${encodeURIComponent(name)}`;

interface WatchLine {
  type?: unknown;
  object?: unknown;
}

/**
 * The only code that talks to the API server: a handful of Secret operations, each bounded in
 * time and failing with a KubeError. Connection and credentials come from client-node's
 * KubeConfig (src/kube/transport.ts).
 */
export class KubeClient {
  private readonly transport: KubeTransport;
  private readonly timeoutMs: number;

  constructor(
    readonly config: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    this.transport = new KubeTransport(config, options);
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  static fromOptions(options: KubeConfigOptions & KubeClientOptions = {}): KubeClient {
    return new KubeClient(loadKubeConfig(options), options);
  }

  async listSecrets(namespace: string, labelSelector: string): Promise<SecretList> {
    const op: KubeOperation = { verb: 'list', resource: 'secrets', namespace };
    const list = await this.transport.json<{ metadata?: { resourceVersion?: string }; items?: V1Secret[] }>(
      { method: 'GET', path: secretsPath(namespace), query: { labelSelector } },
      op,
      this.timeoutMs,
    );
    const resourceVersion = list.metadata?.resourceVersion;
    if (!resourceVersion) throw new KubeError(KubeErrorCode.Unexpected, `list secrets in namespace ${namespace}: the answer has no resourceVersion`);
    if (list.items !== undefined && list.items !== null && !Array.isArray(list.items)) {
      throw new KubeError(KubeErrorCode.Unexpected, `list secrets in namespace ${namespace}: the answer's items is not a list`);
    }
    return { items: list.items ?? [], resourceVersion };
  }

  /** undefined when the Secret does not exist. */
  async getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.transport.json<V1Secret>({ method: 'GET', path: secretPath(namespace, name) }, { verb: 'get', resource: 'secrets', namespace, name }, this.timeoutMs);
    } catch (err) {
      if (err instanceof KubeError && err.code === KubeErrorCode.NotFound) return undefined;
      throw err;
    }
  }

  /** POST: fails with KUBE_CONFLICT (AlreadyExists) rather than replace an existing Secret. */
  async createSecret(namespace: string, secret: V1Secret): Promise<V1Secret> {
    const name = secret.metadata?.name;
    return this.transport.json<V1Secret>(
      { method: 'POST', path: secretsPath(namespace), query: { fieldManager: FIELD_MANAGER }, body: secret },
      { verb: 'create', resource: 'secrets', namespace, ...(name ? { name } : {}) },
      this.timeoutMs,
    );
  }

  /** Server-side apply (PATCH application/apply-patch+yaml, fieldManager syncgate, force). */
  async applySecretManifest(namespace: string, name: string, secret: V1Secret): Promise<V1Secret> {
    return this.transport.json<V1Secret>(
      {
        method: 'PATCH',
        path: secretPath(namespace, name),
        query: { fieldManager: FIELD_MANAGER, force: 'true' },
        body: secret,
        contentType: 'application/apply-patch+yaml',
      },
      { verb: 'patch', resource: 'secrets', namespace, name },
      this.timeoutMs,
    );
  }

  /**
   * DELETE, guarded by preconditions when given (a Secret recreated since it was read is not
   * deleted: KUBE_CONFLICT). Returns false when it was already gone.
   */
  async deleteSecretObject(namespace: string, name: string, preconditions?: { uid?: string; resourceVersion?: string }): Promise<boolean> {
    try {
      await this.transport.json(
        {
          method: 'DELETE',
          path: secretPath(namespace, name),
          ...(preconditions ? { body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions } } : {}),
        },
        { verb: 'delete', resource: 'secrets', namespace, name },
        this.timeoutMs,
      );
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.code === KubeErrorCode.NotFound) return false;
      throw err;
    }
  }

  /**
   * Streams changes after `resourceVersion` (one JSON event per line). A 410 Gone (the version was
   * compacted) arrives as an ERROR event and ends the watch with KUBE_GONE: the caller must list
   * again. The server is asked to end the watch after `timeoutSeconds`; one that has not ended
   * `requestTimeoutMs` after that, or whose headers take longer than `requestTimeoutMs`, is cut
   * and ends with KUBE_TIMEOUT.
   */
  async watchSecrets(namespace: string, labelSelector: string, resourceVersion: string, handlers: WatchHandlers, timeoutSeconds = 25): Promise<WatchHandle> {
    const op: KubeOperation = { verb: 'watch', resource: 'secrets', namespace };
    const controller = new AbortController();
    let ended = false;
    const end = (err: KubeError | undefined) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      controller.abort(new Error('watch ended'));
      try {
        handlers.onEnd(err);
      } catch {
        // The watch is over either way (see WatchHandlers.onEnd).
      }
    };
    const timeout = () => end(new KubeError(KubeErrorCode.Timeout, `watch secrets in namespace ${namespace}: no answer from the API server in time`));
    // Until the headers arrive, the transport ends the request and says which step was late (the
    // credentials, or the API server).
    let timer = setTimeout(() => controller.abort(new DOMException('the watch took too long to start', 'TimeoutError')), this.timeoutMs);
    const handle: WatchHandle = { stop: () => end(undefined) };

    let res;
    try {
      res = await this.transport.open(
        {
          method: 'GET',
          path: secretsPath(namespace),
          query: { watch: 'true', labelSelector, resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) },
        },
        op,
        controller.signal,
      );
    } catch (err) {
      end(toKubeError(err, op));
      return handle;
    }
    if (ended) {
      res.destroy();
      return handle;
    }
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      res.resume();
      end(toKubeError({ code: status }, op));
      return handle;
    }
    clearTimeout(timer);
    timer = setTimeout(timeout, timeoutSeconds * 1000 + this.timeoutMs);

    let pending = '';
    const onLine = (line: string) => {
      let event: WatchLine;
      try {
        event = JSON.parse(line) as WatchLine;
      } catch {
        return end(new KubeError(KubeErrorCode.Unexpected, `watch secrets in namespace ${namespace}: an event is not JSON`));
      }
      const { type, object } = event;
      if (type === 'ERROR') {
        const code = (object as { code?: unknown } | undefined)?.code;
        return end(toKubeError({ code: typeof code === 'number' ? code : 500, body: object }, op));
      }
      if ((type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED' || type === 'BOOKMARK') && typeof object === 'object' && object !== null) {
        try {
          handlers.onEvent(type, object as V1Secret);
        } catch {
          end(new KubeError(KubeErrorCode.Unexpected, `watch secrets in namespace ${namespace}: the event handler failed`));
        }
        return;
      }
      end(new KubeError(KubeErrorCode.Unexpected, `watch secrets in namespace ${namespace}: an event of unknown type`));
    };
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while (!ended && (newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line.length > 0) onLine(line);
      }
    });
    res.on('end', () => {
      if (!ended && pending.trim().length > 0) onLine(pending.trim());
      end(undefined);
    });
    res.on('error', (err) => end(toKubeError(err, op)));
    res.on('close', () => {
      if (!res.complete) end(toKubeError(Object.assign(new Error('watch cut'), { code: 'ECONNRESET' }), op));
    });
    return handle;
  }
}
