import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import yaml from 'js-yaml';
import { KubeError } from '../../src/kube/errors.js';

/**
 * A stand-in for the Kubernetes API server that speaks exactly the Secret paths src/kube uses
 * (DESIGN.md §4), with the API server's status codes and Status bodies:
 *
 *   GET    /api/v1/namespaces/{ns}/secrets?labelSelector=…            list (metadata.resourceVersion)
 *   GET    /api/v1/namespaces/{ns}/secrets?watch=true&resourceVersion=N  watch: JSON lines; 410 as an ERROR event
 *   GET    /api/v1/namespaces/{ns}/secrets/{name}                      get (404)
 *   POST   /api/v1/namespaces/{ns}/secrets                             create (409 AlreadyExists)
 *   PATCH  /api/v1/namespaces/{ns}/secrets/{name}                      server-side apply only (application/apply-patch+yaml,
 *                                                                      fieldManager required, 409 on a field owned by another
 *                                                                      manager unless force)
 *   DELETE /api/v1/namespaces/{ns}/secrets/{name}                      delete (404; preconditions → 409)
 *
 * Anything else is 404 (or 415 for another patch type), so code that strays from these paths fails
 * loudly. Bearer-token auth when `token` is set (401). With `tls`, it serves HTTPS with that
 * certificate (and, with `clientCa`, asks for a client certificate; requests record its subject).
 * Faults: failNext() answers the next matching
 * request with a given status; compact() makes older resourceVersions expire (410); down() closes
 * the port.
 */

type Obj = Record<string, unknown>;
interface Meta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: unknown[];
}
export interface StoredSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: Meta;
  type?: string;
  immutable?: boolean;
  data?: Record<string, string>;
}
interface Event {
  rv: number;
  namespace: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  old: StoredSecret | undefined;
  new: StoredSecret;
}
interface Watcher {
  namespace: string;
  selector: Selector;
  res: ServerResponse;
}
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: string;
  /** The client certificate's subject CN, when one was presented and verified. */
  clientCert: string | undefined;
  userAgent: string | undefined;
}

export interface FakeKubeTls {
  /** PEM certificate and key the server presents (its certificate is also the CA of the kubeconfig). */
  cert: string;
  key: string;
  /** PEM CA that client certificates must chain to; the handshake fails without one. */
  clientCa?: string;
}
type Selector = (labels: Record<string, string> | undefined) => boolean;

const BASE = /^\/api\/v1\/namespaces\/([a-z0-9-]+)\/secrets(?:\/([^/]+))?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 400 ? 'Success' : 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const REASONS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Expired',
  415: 'UnsupportedMediaType', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

function parseSelector(s: string | undefined): Selector | undefined {
  if (!s) return () => true;
  const terms: Selector[] = [];
  for (const part of s.split(',')) {
    const m = /^\s*([a-zA-Z0-9./_-]+)\s*(!=|==|=)?\s*([a-zA-Z0-9._-]*)\s*$/.exec(part);
    if (!m) return undefined;
    const [, key, op, value] = m;
    if (!op) terms.push((l) => l?.[key!] !== undefined);
    else if (op === '!=') terms.push((l) => l?.[key!] !== value);
    else terms.push((l) => l?.[key!] === value);
  }
  return (labels) => terms.every((t) => t(labels));
}

export class FakeKube {
  readonly secrets = new Map<string, StoredSecret>();
  readonly requests: RecordedRequest[] = [];
  private readonly events: Event[] = [];
  private readonly watchers = new Set<Watcher>();
  /** field path → manager, per object key. */
  private readonly owners = new Map<string, Map<string, string>>();
  private faults: { method?: string; path?: RegExp; watch?: boolean; status: number }[] = [];
  private rv = 100;

  /** The resourceVersion a list would report now. */
  get resourceVersion(): string {
    return String(this.rv);
  }
  private compactedThrough = 0;
  private server: Server;
  port = 0;
  /** TCP connections accepted so far (keep-alive reuses one). */
  connections = 0;

  private constructor(
    readonly token: string | undefined,
    private readonly tls: FakeKubeTls | undefined,
  ) {
    this.server = this.makeServer();
  }

  static async start(options: { token?: string; port?: number; tls?: FakeKubeTls } = {}): Promise<FakeKube> {
    const fake = new FakeKube(options.token, options.tls);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /**
   * A kubeconfig (YAML) that points at this server: over TLS, with the server's certificate as the
   * CA (or `ca` instead), and the client certificate and key (PEM, or the files that hold them),
   * and a proxy-url, when given.
   */
  kubeconfig(
    options: { namespace?: string; token?: string; ca?: string; clientCert?: { cert: string; key: string } | { certFile: string; keyFile: string }; proxyUrl?: string } = {},
  ): string {
    const token = options.token ?? this.token;
    const b64 = (pem: string) => Buffer.from(pem).toString('base64');
    const cluster = {
      ...(this.tls
        ? { server: this.url, 'certificate-authority-data': b64(options.ca ?? this.tls.cert) }
        : // client-node only speaks plain http with this set (there is no TLS here to verify).
          { server: this.url, 'insecure-skip-tls-verify': true }),
      ...(options.proxyUrl ? { 'proxy-url': options.proxyUrl } : {}),
    };
    const user = {
      ...(token ? { token } : {}),
      ...(options.clientCert && 'cert' in options.clientCert ? { 'client-certificate-data': b64(options.clientCert.cert), 'client-key-data': b64(options.clientCert.key) } : {}),
      ...(options.clientCert && 'certFile' in options.clientCert ? { 'client-certificate': options.clientCert.certFile, 'client-key': options.clientCert.keyFile } : {}),
    };
    return yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster }],
      users: [{ name: 'fake', user }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', ...(options.namespace ? { namespace: options.namespace } : {}) } }],
      'current-context': 'fake',
    });
  }

  private makeServer(): Server {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    };
    const server = this.tls
      ? createTlsServer({ cert: this.tls.cert, key: this.tls.key, ...(this.tls.clientCa ? { ca: this.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, onRequest)
      : createServer(onRequest);
    server.on(this.tls ? 'secureConnection' : 'connection', () => this.connections++);
    return server;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** The API server goes away: open watches are cut, new connections are refused. */
  async down(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Comes back on the same port with the same state. */
  async up(): Promise<void> {
    this.server = this.makeServer();
    await this.listen(this.port);
  }

  /** The next request matching answers with `status` (a Status body); several can be queued. */
  failNext(status: number, match: { method?: string; path?: RegExp; watch?: boolean } = {}): void {
    this.faults.push({ ...match, status });
  }

  /** Forget events up to now: a watch from an older resourceVersion gets 410 Expired. */
  compact(): void {
    this.compactedThrough = this.rv;
    this.events.length = 0;
  }

  /** Ends every open watch normally (as the server does at timeoutSeconds). */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  // ---- state changes made "by someone else" (kubectl), for tests --------------------------------

  put(secret: { metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> }; data?: Record<string, string>; type?: string; immutable?: boolean }, manager = 'kubectl'): StoredSecret {
    const key = `${secret.metadata.namespace}/${secret.metadata.name}`;
    const old = this.secrets.get(key);
    const stored = this.store(old, { ...secret, apiVersion: 'v1', kind: 'Secret' } as Obj, secret.metadata.namespace, secret.metadata.name);
    this.own(key, stored, manager, true);
    return stored;
  }

  remove(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const old = this.secrets.get(key);
    if (!old) throw new Error(`no Secret ${key}`);
    this.secrets.delete(key);
    this.owners.delete(key);
    this.emit(namespace, 'DELETED', old, { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } });
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  private send(res: ServerResponse, code: number, body: Obj): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private fail(res: ServerResponse, code: number, message: string, details?: Obj): void {
    this.send(res, code, status(code, REASONS[code] ?? 'Unknown', message, details));
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    const peer = this.tls?.clientCa ? (req.socket as TLSSocket).getPeerCertificate() : undefined;
    const clientCert = peer?.subject?.CN;
    this.requests.push({ method, path: url.pathname, query, contentType: req.headers['content-type'], body, clientCert: Array.isArray(clientCert) ? clientCert.join(',') : clientCert, userAgent: req.headers['user-agent'] });

    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) return this.fail(res, 401, 'Unauthorized');
    const isWatch = query.watch === 'true' || query.watch === '1';
    const faultIndex = this.faults.findIndex(
      (f) => (f.method === undefined || f.method === method) && (f.path === undefined || f.path.test(url.pathname)) && (f.watch === undefined || f.watch === isWatch),
    );
    if (faultIndex >= 0) {
      const [fault] = this.faults.splice(faultIndex, 1);
      return this.fail(res, fault!.status, `injected ${fault!.status}`);
    }

    const m = BASE.exec(url.pathname);
    if (!m) return this.fail(res, 404, 'the server could not find the requested resource');
    const namespace = m[1]!;
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);

    if (name === undefined && method === 'GET') return isWatch ? this.watch(res, namespace, query) : this.list(res, namespace, query);
    if (name === undefined && method === 'POST') return this.create(res, namespace, body, query);
    if (name !== undefined && method === 'GET') return this.get(res, namespace, name);
    if (name !== undefined && method === 'PATCH') return this.apply(res, namespace, name, body, query, req.headers['content-type']);
    if (name !== undefined && method === 'DELETE') return this.delete(res, namespace, name, body);
    return this.fail(res, 405, `the server does not allow this method on the requested resource`);
  }

  private list(res: ServerResponse, namespace: string, query: Record<string, string>): void {
    const selector = parseSelector(query.labelSelector);
    if (!selector) return this.fail(res, 400, `unable to parse requirement: ${query.labelSelector}`);
    const items = [...this.secrets.values()].filter((s) => s.metadata.namespace === namespace && selector(s.metadata.labels)).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    this.send(res, 200, { kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
  }

  private watch(res: ServerResponse, namespace: string, query: Record<string, string>): void {
    const selector = parseSelector(query.labelSelector);
    if (!selector) return this.fail(res, 400, `unable to parse requirement: ${query.labelSelector}`);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // the API server answers a watch at once, before any event
    const from = query.resourceVersion;
    if (from === undefined || from === '' || from === '0') {
      for (const s of this.secrets.values()) if (s.metadata.namespace === namespace && selector(s.metadata.labels)) res.write(`${JSON.stringify({ type: 'ADDED', object: s })}\n`);
    } else {
      const n = Number(from);
      if (!Number.isInteger(n)) {
        res.end(`${JSON.stringify({ type: 'ERROR', object: status(400, 'BadRequest', `invalid resource version ${from}`) })}\n`);
        return;
      }
      if (n < this.compactedThrough) {
        res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedThrough})`) })}\n`);
        return;
      }
      for (const e of this.events) if (e.rv > n && e.namespace === namespace) this.deliver(res, selector, e);
    }
    const watcher: Watcher = { namespace, selector, res };
    this.watchers.add(watcher);
    const seconds = Number(query.timeoutSeconds);
    const timer = Number.isFinite(seconds) && seconds > 0 ? setTimeout(() => res.end(), seconds * 1000) : undefined;
    res.on('close', () => {
      if (timer) clearTimeout(timer);
      this.watchers.delete(watcher);
    });
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that asked for them. */
  bookmark(): void {
    for (const w of this.watchers) w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } })}\n`);
  }

  /** The API server's selector semantics: an object leaving the selection is DELETED, entering it is ADDED. */
  private deliver(res: ServerResponse, selector: Selector, e: Event): void {
    const was = e.old !== undefined && e.type !== 'ADDED' && selector(e.old.metadata.labels);
    const is = e.type !== 'DELETED' && selector(e.new.metadata.labels);
    let type: string | undefined;
    if (e.type === 'DELETED') type = was ? 'DELETED' : undefined;
    else if (was && is) type = 'MODIFIED';
    else if (!was && is) type = 'ADDED';
    else if (was && !is) type = 'DELETED';
    if (type) res.write(`${JSON.stringify({ type, object: e.new })}\n`);
  }

  private emit(namespace: string, type: Event['type'], old: StoredSecret | undefined, now: StoredSecret): void {
    const e: Event = { rv: Number(now.metadata.resourceVersion), namespace, type, old, new: now };
    this.events.push(e);
    for (const w of this.watchers) if (w.namespace === namespace) this.deliver(w.res, w.selector, e);
  }

  private get(res: ServerResponse, namespace: string, name: string): void {
    const s = this.secrets.get(`${namespace}/${name}`);
    if (!s) return this.fail(res, 404, `secrets "${name}" not found`, { name, kind: 'secrets' });
    this.send(res, 200, s as unknown as Obj);
  }

  private parseBody(res: ServerResponse, body: string, yamlOk: boolean): Obj | undefined {
    try {
      const parsed = yamlOk ? yaml.load(body, { schema: yaml.CORE_SCHEMA }) : JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Obj;
    } catch {
      // fall through
    }
    this.fail(res, 400, 'the body of the request was in an unknown format');
    return undefined;
  }

  /** Kubernetes' validation of the fields we send; 422 Invalid like the real server. */
  private invalid(obj: Obj, name: string): string | undefined {
    if (obj.apiVersion !== 'v1' || obj.kind !== 'Secret') return 'apiVersion/kind must be v1 Secret';
    if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) return `metadata.name: Invalid value: "${name}"`;
    const data = (obj.data ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(data)) {
      if (!DATA_KEY.test(k)) return `data[${k}]: Invalid value: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`;
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return `data[${k}]: Invalid value: illegal base64 data`;
    }
    return undefined;
  }

  private store(old: StoredSecret | undefined, obj: Obj, namespace: string, name: string): StoredSecret {
    const meta = (obj.metadata ?? {}) as Obj;
    const stored: StoredSecret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace,
        uid: old?.metadata.uid ?? randomUUID(),
        resourceVersion: String(++this.rv),
        creationTimestamp: old?.metadata.creationTimestamp ?? new Date().toISOString(),
        ...(meta.labels ? { labels: meta.labels as Record<string, string> } : {}),
        ...(meta.annotations ? { annotations: meta.annotations as Record<string, string> } : {}),
        ...(meta.ownerReferences ? { ownerReferences: meta.ownerReferences as unknown[] } : {}),
      },
      type: (obj.type as string | undefined) ?? old?.type ?? 'Opaque',
      ...(obj.immutable !== undefined ? { immutable: obj.immutable as boolean } : {}),
      ...(obj.data ? { data: obj.data as Record<string, string> } : {}),
    };
    this.secrets.set(`${namespace}/${name}`, stored);
    this.emit(namespace, old ? 'MODIFIED' : 'ADDED', old, stored);
    return stored;
  }

  private fields(obj: { metadata?: unknown; data?: unknown; type?: unknown; immutable?: unknown }): Map<string, string> {
    const out = new Map<string, string>();
    const meta = (obj.metadata ?? {}) as Obj;
    for (const [k, v] of Object.entries((meta.labels ?? {}) as Obj)) out.set(`metadata.labels.${k}`, JSON.stringify(v));
    for (const [k, v] of Object.entries((meta.annotations ?? {}) as Obj)) out.set(`metadata.annotations.${k}`, JSON.stringify(v));
    if (meta.ownerReferences !== undefined) out.set('metadata.ownerReferences', JSON.stringify(meta.ownerReferences));
    for (const [k, v] of Object.entries((obj.data ?? {}) as Obj)) out.set(`data.${k}`, JSON.stringify(v));
    if (obj.type !== undefined) out.set('type', JSON.stringify(obj.type));
    if (obj.immutable !== undefined) out.set('immutable', JSON.stringify(obj.immutable));
    return out;
  }

  private own(key: string, obj: StoredSecret, manager: string, replaceAll: boolean): void {
    const owners = replaceAll ? new Map<string, string>() : (this.owners.get(key) ?? new Map<string, string>());
    for (const f of this.fields(obj).keys()) owners.set(f, manager);
    this.owners.set(key, owners);
  }

  private create(res: ServerResponse, namespace: string, body: string, query: Record<string, string>): void {
    const obj = this.parseBody(res, body, false);
    if (!obj) return;
    const meta = (obj.metadata ?? {}) as Obj;
    const name = meta.name;
    if (typeof name !== 'string' || name === '') return this.fail(res, 422, 'Secret "" is invalid: metadata.name: Required value: name or generateName is required');
    if (meta.namespace !== undefined && meta.namespace !== namespace) return this.fail(res, 400, 'the namespace of the provided object does not match the namespace sent on the request');
    const problem = this.invalid(obj, name);
    if (problem) return this.fail(res, 422, `Secret "${name}" is invalid: ${problem}`, { name, kind: 'secrets' });
    const key = `${namespace}/${name}`;
    if (this.secrets.has(key)) {
      return this.send(res, 409, status(409, 'AlreadyExists', `secrets "${name}" already exists`, { name, kind: 'secrets' }));
    }
    const stored = this.store(undefined, obj, namespace, name);
    this.own(key, stored, query.fieldManager ?? 'unknown', true);
    this.send(res, 201, stored as unknown as Obj);
  }

  private apply(res: ServerResponse, namespace: string, name: string, body: string, query: Record<string, string>, contentType: string | undefined): void {
    if (contentType?.split(';')[0]?.trim() !== 'application/apply-patch+yaml') {
      return this.fail(res, 415, `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml (this stand-in serves server-side apply only)`);
    }
    const manager = query.fieldManager;
    if (!manager) return this.fail(res, 400, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const obj = this.parseBody(res, body, true);
    if (!obj) return;
    const meta = (obj.metadata ?? {}) as Obj;
    if (meta.name !== name) return this.fail(res, 400, 'the name of the object does not match the name on the URL');
    if (meta.namespace !== undefined && meta.namespace !== namespace) return this.fail(res, 400, 'the namespace of the provided object does not match the namespace sent on the request');
    const problem = this.invalid(obj, name);
    if (problem) return this.fail(res, 422, `Secret "${name}" is invalid: ${problem}`, { name, kind: 'secrets' });
    const key = `${namespace}/${name}`;
    const old = this.secrets.get(key);
    const force = query.force === 'true';
    const owners = this.owners.get(key) ?? new Map<string, string>();
    const applied = this.fields(obj);
    const current = old ? this.fields(old) : new Map<string, string>();
    const conflicts = [...applied].filter(([f, v]) => owners.has(f) && owners.get(f) !== manager && current.get(f) !== v).map(([f]) => f);
    if (conflicts.length > 0 && !force) {
      return this.fail(res, 409, `Apply failed with ${conflicts.length} conflicts: conflicts with "${owners.get(conflicts[0]!)}": ${conflicts.join(', ')}`, { name, kind: 'secrets' });
    }
    if (old?.immutable && JSON.stringify(old.data ?? {}) !== JSON.stringify((obj.data ?? old.data ?? {}) as Obj)) {
      return this.fail(res, 422, `Secret "${name}" is invalid: data: Forbidden: field is immutable when \`immutable\` is set`, { name, kind: 'secrets' });
    }
    // Merge: start from the current object, drop fields this manager owned and no longer applies, set the applied ones.
    const merged = this.mergeApply(old, obj, owners, manager, applied);
    const stored = this.store(old, merged, namespace, name);
    for (const f of [...owners.keys()]) if (owners.get(f) === manager && !applied.has(f)) owners.delete(f);
    for (const f of applied.keys()) owners.set(f, manager);
    this.owners.set(key, owners);
    this.send(res, old ? 200 : 201, stored as unknown as Obj);
  }

  private mergeApply(old: StoredSecret | undefined, obj: Obj, owners: Map<string, string>, manager: string, applied: Map<string, string>): Obj {
    const meta = (obj.metadata ?? {}) as Obj;
    const labels: Record<string, string> = { ...old?.metadata.labels };
    const annotations: Record<string, string> = { ...old?.metadata.annotations };
    const data: Record<string, string> = { ...old?.data };
    for (const [f, m] of owners) {
      if (m !== manager || applied.has(f)) continue;
      if (f.startsWith('metadata.labels.')) delete labels[f.slice(16)];
      else if (f.startsWith('metadata.annotations.')) delete annotations[f.slice(21)];
      else if (f.startsWith('data.')) delete data[f.slice(5)];
    }
    Object.assign(labels, meta.labels ?? {});
    Object.assign(annotations, meta.annotations ?? {});
    Object.assign(data, obj.data ?? {});
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        ...(Object.keys(labels).length ? { labels } : {}),
        ...(Object.keys(annotations).length ? { annotations } : {}),
        ...(meta.ownerReferences ? { ownerReferences: meta.ownerReferences } : old?.metadata.ownerReferences ? { ownerReferences: old.metadata.ownerReferences } : {}),
      },
      type: obj.type ?? old?.type,
      ...(obj.immutable !== undefined ? { immutable: obj.immutable } : old?.immutable !== undefined ? { immutable: old.immutable } : {}),
      data,
    };
  }

  private delete(res: ServerResponse, namespace: string, name: string, body: string): void {
    const key = `${namespace}/${name}`;
    const s = this.secrets.get(key);
    if (!s) return this.fail(res, 404, `secrets "${name}" not found`, { name, kind: 'secrets' });
    if (body.trim() !== '') {
      const opts = this.parseBody(res, body, false);
      if (!opts) return;
      const pre = (opts.preconditions ?? {}) as { uid?: string; resourceVersion?: string };
      if (pre.uid !== undefined && pre.uid !== s.metadata.uid) {
        return this.fail(res, 409, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${s.metadata.uid}`, { name, kind: 'secrets' });
      }
      if (pre.resourceVersion !== undefined && pre.resourceVersion !== s.metadata.resourceVersion) {
        return this.fail(res, 409, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${s.metadata.resourceVersion}`, { name, kind: 'secrets' });
      }
    }
    this.remove(namespace, name);
    this.send(res, 200, status(200, '', '', { name, kind: 'secrets', uid: s.metadata.uid }));
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    await this.down();
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The KubeError `p` rejects with; fails the test when it does not reject, or with something else. */
export async function rejectedWithKubeError(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof KubeError)) throw new Error(`expected a KubeError, got ${String(err)}`, { cause: err });
    return err;
  }
  throw new Error('expected a rejection');
}
