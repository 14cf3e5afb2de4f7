import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
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

/**
 * Sends requests to the API server over node:http(s), connected and authenticated exactly as
 * @kubernetes/client-node's `KubeConfig.applyToHTTPSOptions` prepares them for the current
 * context: CA, client certificate, bearer token or auth plugin (exec, OIDC, rotating token file),
 * impersonation, and a proxy agent when the cluster names `proxy-url`.
 *
 * client-node's own generated API classes and `Watch` are not used: they load every model class
 * and undici, ~25 MiB and ~100 ms at start for the six Secret calls syncgate makes (BENCHMARKS.md,
 * "Sixth pass").
 */
export class KubeTransport {
  /**
   * Without a proxy, connections are kept alive between requests (client-node's own agents are
   * not). Node keys pooled sockets by the TLS options of each request, so one agent serves all.
   */
  private readonly httpAgent = new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, keepAliveMsecs: 30_000 });

  constructor(readonly config: KubeConfig) {}

  /** Resolves with the response once its headers have arrived (any status). `signal` cuts the request or the response. */
  async open(req: ApiRequest, op: KubeOperation, signal: AbortSignal): Promise<IncomingMessage> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster?.server) throw new KubeError(KubeErrorCode.ConfigInvalid, 'the Kubernetes client configuration has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + req.path);
    for (const [name, value] of Object.entries(req.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);

    const options: https.RequestOptions = {};
    try {
      await this.config.applyToHTTPSOptions(options);
    } catch (err) {
      // Auth plugins' messages can quote their output; only an errno code is passed on.
      const code = (err as { code?: unknown }).code;
      throw new KubeError(
        KubeErrorCode.ConfigInvalid,
        `${describeOperation(op)}: cannot prepare the credentials or TLS settings of the kubeconfig's current context${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
    const secure = url.protocol === 'https:';
    if (!cluster.proxyUrl) options.agent = secure ? this.httpsAgent : this.httpAgent;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    options.method = req.method;
    // client-node copies a token as read (a token file usually ends with a newline), and Node
    // refuses a header value with one; undici, which client-node's own requests went through, trims.
    const prepared = Object.entries(options.headers ?? {}).map(([name, value]) => [name, typeof value === 'string' ? value.trim() : value]);
    options.headers = {
      ...Object.fromEntries(prepared),
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': req.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
    };

    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      // Not the request's own `signal` option: aborted from a handler of the answer's data, Node
      // destroyed the socket with an error nothing listened for (an uncaught exception; see
      // test/kube/transport.test.ts, "headers, then a body that never ends"). Destroying the
      // response is safe.
      let response: IncomingMessage | undefined;
      const cancel = () => (response ?? request).destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      const request = (secure ? https : http).request(url, options, (res) => {
        response = res;
        res.once('close', () => signal.removeEventListener('abort', cancel));
        resolve(res);
      });
      request.on('error', (err) => {
        if (!response) signal.removeEventListener('abort', cancel);
        reject(err);
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
