import type { Agent, IncomingMessage } from 'node:http';
import https from 'node:https';
import { type PeerCertificate, checkServerIdentity } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { VERSION } from '../package-root.js';
import { type KubeOperation, KubeError, KubeErrorCode, describeOperation, errorForStatus, statusReason, toKubeError } from './errors.js';

// Not an ESM import, which would read every export of node:http, three of them getters that load
// undici (~2 MiB idle RSS): see src/server/start.ts.
const http = process.getBuiltinModule('node:http');

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under the server URL, already encoded: `/api/v1/namespaces/ns/secrets`. */
  path: string;
  query?: Record<string, string | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** Default `application/json`. JSON is also valid `application/apply-patch+yaml`. */
  contentType?: string;
}

/** How long a kept-alive connection may sit unused before it is closed (Node's global agent uses 5 s). */
export const IDLE_SOCKET_MS = 5_000;

/** Errors of a kept-alive connection the server closed while the request was being written. */
const STALE_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Requests sent once more when their kept-alive connection turns out closed. The server may
 * have carried one out before the connection was lost, so only those that mean the same thing
 * the second time: reads and server-side apply. Not a create (409 the second time) nor a delete
 * (404: "already gone" when it was syncgate that deleted it).
 */
const RESENT_ON_STALE_SOCKET = new Set<ApiRequest['method']>(['GET', 'PATCH']);

export interface KubeTransportOptions {
  /** Default IDLE_SOCKET_MS. */
  idleSocketMs?: number;
}

/**
 * Sends requests to the API server over node:http(s), connected and authenticated exactly as
 * @kubernetes/client-node's `KubeConfig.applyToHTTPSOptions` prepares them for the current
 * context: CA, client certificate, bearer token or auth plugin (exec, OIDC, rotating token file),
 * impersonation, and the cluster's `proxy-url` (HTTP CONNECT or SOCKS).
 *
 * client-node's own generated API classes and `Watch` are not used: they load every model class
 * and undici, ~25 MiB and ~100 ms at start for the six Secret calls syncgate makes (BENCHMARKS.md,
 * "Sixth pass").
 */
export class KubeTransport {
  /**
   * Connections are kept alive between requests, and closed after idleSocketMs unused. Node keys
   * pooled sockets by the TLS options of each request (CA, client certificate, server name), so
   * one agent serves every credential, and certificates rotated on disk or issued by an exec
   * plugin take effect on the next request.
   */
  private readonly httpAgent: Agent;
  private readonly httpsAgent: Agent;
  /**
   * Not the agent applyToHTTPSOptions returns for a `proxy-url`: client-node builds it once per
   * cluster and user with the TLS options of that first request, and an agent's own options
   * override each request's, so rotated certificates would be ignored until a restart. These are
   * built without the CA or client certificate, which then come from each request as with the
   * agents above. One per proxy and server.
   */
  private readonly proxyAgents = new Map<string, Agent>();
  /** What every agent here is built with: kept-alive connections, closed after idleSocketMs unused. */
  private readonly pooling: { keepAlive: true; keepAliveMsecs: number; timeout: number };
  /**
   * The applyToHTTPSOptions call under way, which later requests share: client-node runs an exec
   * plugin on each call and never stops one, so a plugin that hangs would otherwise be started
   * again by every request (client-go, too, runs one at a time).
   */
  private preparing: Promise<https.RequestOptions> | undefined;

  constructor(
    readonly config: KubeConfig,
    options: KubeTransportOptions = {},
  ) {
    this.pooling = { keepAlive: true, keepAliveMsecs: 30_000, timeout: options.idleSocketMs ?? IDLE_SOCKET_MS };
    this.httpAgent = new http.Agent(this.pooling);
    this.httpsAgent = new https.Agent(this.pooling);
  }

  /**
   * Resolves with the response once its headers have arrived (any status). `signal` cuts the
   * preparation of credentials (an exec plugin that hangs), the request or the response.
   */
  async open(req: ApiRequest, op: KubeOperation, signal: AbortSignal): Promise<IncomingMessage> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster?.server) throw new KubeError(KubeErrorCode.ConfigInvalid, 'the Kubernetes client configuration has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + req.path);
    for (const [name, value] of Object.entries(req.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);

    const shared = await this.prepare(op, signal);
    const options: https.RequestOptions = { ...shared, headers: { ...shared.headers } };
    const secure = url.protocol === 'https:';
    options.agent = cluster.proxyUrl ? this.proxyAgent(cluster.proxyUrl, url, options.servername) : secure ? this.httpsAgent : this.httpAgent;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    options.method = req.method;
    // client-node copies a token as read (a token file usually ends with a newline), and Node
    // refuses a header value with one; undici, which client-node's own requests went through, trims.
    const prepared = Object.entries(options.headers ?? {}).map(([name, value]) => [name, typeof value === 'string' ? value.trim() : value]);
    options.headers = {
      ...Object.fromEntries(prepared),
      accept: 'application/json',
      'user-agent': `syncgate/${VERSION}`,
      ...(body !== undefined ? { 'content-type': req.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
    };
    return this.send(url, options, body, signal, RESENT_ON_STALE_SOCKET.has(req.method));
  }

  /**
   * The options applyToHTTPSOptions prepares (shared: copy before changing), bounded by `signal`:
   * an exec plugin that never exits must not hang the request. The plugin itself is left running.
   */
  private async prepare(op: KubeOperation, signal: AbortSignal): Promise<https.RequestOptions> {
    signal.throwIfAborted();
    let onAbort = () => {};
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () =>
        reject(
          (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError'
            ? new KubeError(KubeErrorCode.Timeout, `${describeOperation(op)}: the credentials of the kubeconfig's current context (an exec or auth plugin) were not ready in time`)
            : signal.reason,
        );
    });
    signal.addEventListener('abort', onAbort, { once: true });
    this.preparing ??= (async () => {
      const options: https.RequestOptions = {};
      await this.config.applyToHTTPSOptions(options);
      return options;
    })().finally(() => (this.preparing = undefined));
    const applied = this.preparing.catch((err: unknown) => {
      // Auth plugins' messages can quote their output; only an errno code is passed on.
      const code = (err as { code?: unknown }).code;
      throw new KubeError(
        KubeErrorCode.ConfigInvalid,
        `${describeOperation(op)}: cannot prepare the credentials or TLS settings of the kubeconfig's current context${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    });
    try {
      return await Promise.race([applied, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private proxyAgent(proxyUrl: string, url: URL, servername: string | undefined): Agent {
    const secure = url.protocol === 'https:';
    const serverName = servername ?? url.hostname.replace(/^\[|\]$/g, '');
    const key = JSON.stringify([url.protocol, proxyUrl, serverName]);
    let agent = this.proxyAgents.get(key);
    if (!agent) {
      // The same choice as client-node's KubeConfig.createAgent. hpagent also bounds the proxy's
      // answer to CONNECT by the idle timeout.
      if (proxyUrl.startsWith('socks')) {
        // socks-proxy-agent starts TLS without the host when it is an IP address (and no
        // tls-server-name is set), and Node would check the server's certificate against
        // "localhost". The check is the agent's: given with a request, Node never reuses the connection.
        const checks = secure ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(serverName, cert) } : {};
        const socks = new SocksProxyAgent(proxyUrl, { ...this.pooling, ...checks });
        // Its own `timeout` would cut any connection, busy or not, silent that long (a watch);
        // the agent's options still close idle pooled ones.
        socks.timeout = null;
        agent = socks;
      } else if (secure) agent = new HttpsProxyAgent({ proxy: proxyUrl, ...this.pooling });
      else agent = new HttpProxyAgent({ proxy: proxyUrl, ...this.pooling });
      this.proxyAgents.set(key, agent);
    }
    return agent;
  }

  private send(url: URL, options: https.RequestOptions, body: string | undefined, signal: AbortSignal, resendOnStaleSocket: boolean): Promise<IncomingMessage> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      // Not the request's own `signal` option: aborted from a handler of the answer's data, Node
      // destroyed the socket with an error nothing listened for (an uncaught exception; see
      // test/kube/transport.test.ts, "headers, then a body that never ends"). Destroying the
      // response is safe.
      let response: IncomingMessage | undefined;
      const cancel = () => (response ?? request).destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      const request = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
        response = res;
        res.once('close', () => signal.removeEventListener('abort', cancel));
        resolve(res);
      });
      request.on('error', (err: NodeJS.ErrnoException) => {
        if (response) return;
        signal.removeEventListener('abort', cancel);
        if (resendOnStaleSocket && request.reusedSocket && !signal.aborted && STALE_SOCKET_ERRORS.has(err.code ?? '')) {
          resolve(this.send(url, options, body, signal, false));
        } else reject(err);
      });
      signal.addEventListener('abort', cancel, { once: true });
      request.end(body);
    });
  }

  /** A request whose answer is one JSON object: 2xx → the object; otherwise a KubeError for the status (or KUBE_UNEXPECTED_RESPONSE). */
  async json<T>(req: ApiRequest, op: KubeOperation, timeoutMs: number): Promise<T> {
    let text: string;
    let status: number;
    try {
      const res = await this.open(req, op, AbortSignal.timeout(timeoutMs));
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      text = '';
      for await (const chunk of res) text += chunk as string;
    } catch (err) {
      throw toKubeError(err, op);
    }
    if (status < 200 || status > 299) throw errorForStatus(status, op, statusReason(text));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new KubeError(KubeErrorCode.Unexpected, `${describeOperation(op)}: the API server's answer (HTTP ${status}) is not a JSON object`, { status });
    }
    return parsed as T;
  }
}
