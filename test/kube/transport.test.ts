/**
 * How the client connects: TLS verified against the kubeconfig's CA, client certificates (rotated
 * on disk, directly and through a proxy-url), exec credential plugins (all prepared by
 * client-node's KubeConfig), kept-alive connections (idle lifetime, a stale connection), and the
 * bounds on credentials, answers and watches that stall or are malformed.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient, type KubeError, loadKubeConfig } from '../../src/kube/index.js';
import { VERSION } from '../../src/package-root.js';
import { ConnectProxy, Socks5Proxy } from '../helpers/proxies.js';
import { FakeKube, rejectedWithKubeError as rejected } from '../helpers/fake-kube.js';
import { type IssuedCert, testCertificateAuthority } from '../helpers/tls.js';

const NS = 'syncgate';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'syncgate-transport-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function clientFor(kubeconfig: string, name: string, requestTimeoutMs?: number): KubeClient {
  const file = path.join(dir, name);
  writeFileSync(file, kubeconfig);
  return new KubeClient(loadKubeConfig({ kubeconfig: file }), requestTimeoutMs ? { requestTimeoutMs } : {});
}

describe('TLS, as the kubeconfig sets it up', () => {
  let ca: Awaited<ReturnType<typeof testCertificateAuthority>>;
  let otherCa: Awaited<ReturnType<typeof testCertificateAuthority>>;
  let server: IssuedCert;
  let gateCert: IssuedCert;
  let fake: FakeKube;
  beforeAll(async () => {
    ca = await testCertificateAuthority('cluster-ca');
    otherCa = await testCertificateAuthority('someone-else');
    server = await ca.issue('kube-apiserver', 'server');
    gateCert = await ca.issue('syncgate-gate', 'client');
  });
  afterEach(() => fake?.stop());

  it('verifies the server against the CA and keeps one connection alive across requests', async () => {
    fake = await FakeKube.start({ token: 'tls-token', tls: { cert: server.cert, key: server.key } });
    fake.put({ metadata: { name: 'a', namespace: NS }, data: { x: 'MQ==' } });
    const client = clientFor(fake.kubeconfig({ ca: ca.cert }), 'tls');
    expect((await client.listSecrets(NS, '')).items.map((s) => s.metadata?.name)).toEqual(['a']);
    expect((await client.getSecret(NS, 'a'))?.data).toEqual({ x: 'MQ==' });
    await client.applySecretManifest(NS, 'b', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b', namespace: NS }, data: { y: 'Mg==' } });
    expect(fake.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'PATCH']);
    expect(fake.connections).toBe(1);
  });

  it('a server certificate from another CA: KUBE_UNREACHABLE naming the TLS failure, and no request is sent', async () => {
    fake = await FakeKube.start({ token: 'tls-token', tls: { cert: server.cert, key: server.key } });
    const client = clientFor(fake.kubeconfig({ ca: otherCa.cert }), 'wrong-ca');
    const err = await rejected(client.listSecrets(NS, ''));
    expect(err.code).toBe('KUBE_UNREACHABLE');
    expect(err.message).toMatch(/list secrets in namespace syncgate: cannot reach the API server \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
    expect(fake.requests).toEqual([]);
  });

  it('presents the kubeconfig client certificate; without one the handshake fails', async () => {
    fake = await FakeKube.start({ tls: { cert: server.cert, key: server.key, clientCa: ca.cert } });
    const client = clientFor(fake.kubeconfig({ ca: ca.cert, clientCert: gateCert }), 'client-cert');
    await client.listSecrets(NS, '');
    expect(fake.requests.at(-1)?.clientCert).toBe('syncgate-gate');

    const anonymous = clientFor(fake.kubeconfig({ ca: ca.cert }), 'no-client-cert');
    expect((await rejected(anonymous.listSecrets(NS, ''))).code).toBe('KUBE_UNREACHABLE');
    expect(fake.requests).toHaveLength(1);
  });

  describe.each([
    ['directly', undefined],
    ['through an HTTP CONNECT proxy-url', ConnectProxy],
    ['through a SOCKS5 proxy-url', Socks5Proxy],
  ])('a client certificate rotated on disk (%s)', (how, Proxy) => {
    let proxy: ConnectProxy | Socks5Proxy | undefined;
    afterEach(() => proxy?.stop());

    it('is presented from the next request on, on a new connection; requests before it share one', async () => {
      fake = await FakeKube.start({ tls: { cert: server.cert, key: server.key, clientCa: ca.cert } });
      proxy = Proxy ? await Proxy.start() : undefined;
      const name = `rotating-${how.split(' ').at(-2)}`;
      const certFile = path.join(dir, `${name}.crt`);
      const keyFile = path.join(dir, `${name}.key`);
      writeFileSync(certFile, gateCert.cert);
      writeFileSync(keyFile, gateCert.key);
      const client = clientFor(fake.kubeconfig({ ca: ca.cert, clientCert: { certFile, keyFile }, ...(proxy ? { proxyUrl: proxy.url } : {}) }), name);
      await client.listSecrets(NS, '');
      await client.getSecret(NS, 'a');

      const renewed = await ca.issue('syncgate-gate-renewed', 'client');
      writeFileSync(certFile, renewed.cert);
      writeFileSync(keyFile, renewed.key);
      await client.getSecret(NS, 'a');
      expect(fake.requests.map((r) => r.clientCert)).toEqual(['syncgate-gate', 'syncgate-gate', 'syncgate-gate-renewed']);
      expect(fake.connections).toBe(2);
      if (proxy) expect(proxy.tunnels).toEqual([`127.0.0.1:${fake.port}`, `127.0.0.1:${fake.port}`]);
    });
  });

  it('through a SOCKS5 proxy-url, the server certificate is checked against the server address (an IP address)', async () => {
    // socks-proxy-agent starts TLS without the host when it is an IP address, and Node would then
    // check the certificate against "localhost".
    const proxy = await Socks5Proxy.start();
    try {
      const ipOnly = await ca.issue('kube-apiserver', 'server', 'IP:127.0.0.1');
      fake = await FakeKube.start({ tls: ipOnly });
      await clientFor(fake.kubeconfig({ ca: ca.cert, proxyUrl: proxy.url }), 'socks-ip').listSecrets(NS, '');
      await fake.stop();

      const localhostOnly = await ca.issue('kube-apiserver', 'server', 'DNS:localhost');
      fake = await FakeKube.start({ tls: localhostOnly });
      const err = await rejected(clientFor(fake.kubeconfig({ ca: ca.cert, proxyUrl: proxy.url }), 'socks-localhost').listSecrets(NS, ''));
      expect(err.code).toBe('KUBE_UNREACHABLE');
      expect(err.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(fake.requests).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });
});

describe.each([
  ['directly', undefined],
  ['through an HTTP CONNECT proxy-url', ConnectProxy],
  ['through a SOCKS5 proxy-url', Socks5Proxy],
])('a connection that stays silent for longer than idleSocketMs while in use (%s)', (_how, Proxy) => {
  let server: Server;
  let proxy: ConnectProxy | Socks5Proxy | undefined;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  let client: KubeClient;
  beforeEach(async () => {
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    proxy = Proxy ? await Proxy.start() : undefined;
    const file = path.join(dir, `silent-${Proxy?.name ?? 'direct'}`);
    writeFileSync(
      file,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'insecure-skip-tls-verify': true, ...(proxy ? { 'proxy-url': proxy.url } : {}) } }],
        users: [{ name: 'u', user: {} }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    client = new KubeClient(loadKubeConfig({ kubeconfig: file }), { idleSocketMs: 300, requestTimeoutMs: 5_000 });
  });
  afterEach(async () => {
    await proxy?.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('a slow answer is waited for', async () => {
    handler = (_req, res) => void setTimeout(() => res.end(JSON.stringify({ metadata: { name: 'slow' } })), 800);
    expect((await client.getSecret(NS, 'slow'))?.metadata?.name).toBe('slow');
    if (proxy) expect(proxy.tunnels).toHaveLength(1);
  });

  it('a quiet watch is not cut', async () => {
    handler = (_req, res) => {
      res.writeHead(200).flushHeaders();
      setTimeout(() => res.end('{"type":"ADDED","object":{"metadata":{"name":"late"}}}\n'), 800);
    };
    const ended = await new Promise<{ events: string[]; err: KubeError | undefined }>((resolve) => {
      const events: string[] = [];
      void client.watchSecrets(NS, 'a=b', '1', { onEvent: (type, s) => events.push(`${type} ${s.metadata?.name}`), onEnd: (err) => resolve({ events, err }) }, 5);
    });
    expect(ended).toEqual({ events: ['ADDED late'], err: undefined });
  });
});

describe('requests', () => {
  let fake: FakeKube;
  afterEach(() => fake?.stop());

  it('name syncgate and its version as their User-Agent', async () => {
    fake = await FakeKube.start();
    await clientFor(fake.kubeconfig(), 'user-agent').getSecret(NS, 'a');
    expect(fake.requests[0]?.userAgent).toBe(`syncgate/${VERSION}`);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('kept-alive connections', () => {
  let server: Server;
  let connections: Socket[];
  let handler: (req: IncomingMessage, res: ServerResponse, requestOnConnection: number, connection: number) => void;
  let client: KubeClient;
  /** What each connection was asked, in order: `GET /api/…` */
  let asked: string[][];
  beforeEach(async () => {
    connections = [];
    asked = [];
    server = createServer((req, res) => {
      const socket = req.socket as Socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      const connection = connections.indexOf(socket) + 1;
      (asked[connection - 1] ??= []).push(`${req.method} ${new URL(req.url!, 'http://x').pathname}`);
      handler(req, res, socket.served, connection);
    });
    server.on('connection', (socket: Socket) => connections.push(socket));
    server.keepAliveTimeout = 60_000; // only the client closes idle connections here
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    // The default idle timeout (5 s), so that a request never finds its connection closed by it.
    client = KubeClient.fromOptions({ server: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } });
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const secret = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name } });

  it('are closed by the client once unused for idleSocketMs; the next request opens another', async () => {
    handler = (_req, res) => res.end(secret('a'));
    client = KubeClient.fromOptions({ server: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, idleSocketMs: 300 });
    await client.getSecret(NS, 'a');
    const t0 = Date.now();
    await client.getSecret(NS, 'a');
    expect(connections).toHaveLength(1);
    const closed = await new Promise((r) => {
      connections[0]!.once('close', () => r(true));
      setTimeout(() => r(false), 3_000);
    });
    expect(closed).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    await client.getSecret(NS, 'a');
    expect(connections).toHaveLength(2);
  });

  it('one the server closed as a request was sent on it: the request is sent again on a new connection', async () => {
    // The server drops its first connection when a second request arrives on it, without an answer.
    handler = (req, res, served, connection) => (connection === 1 && served === 2 ? req.socket.destroy() : res.end(secret(`served-${connection}-${served}`)));
    expect((await client.getSecret(NS, 'x'))?.metadata?.name).toBe('served-1-1');
    expect((await client.getSecret(NS, 'x'))?.metadata?.name).toBe('served-2-1');
    const get = `GET /api/v1/namespaces/${NS}/secrets/x`;
    expect(asked).toEqual([[get, get], [get]]);
  });

  it.each([
    ['a create', 'POST', (c: KubeClient) => c.createSecret(NS, { metadata: { name: 'x' } })],
    ['a delete', 'DELETE', (c: KubeClient) => c.deleteSecretObject(NS, 'x')],
  ])('… but not %s, which the server may have carried out (409 or 404 the second time): KUBE_UNREACHABLE', async (_what, method, call) => {
    handler = (req, res, served, connection) => (connection === 1 && served === 2 ? req.socket.destroy() : res.end(secret('x')));
    await client.getSecret(NS, 'x');
    const err = await rejected(call(client));
    expect(err.code).toBe('KUBE_UNREACHABLE');
    expect(asked).toEqual([[`GET /api/v1/namespaces/${NS}/secrets/x`, `${method} /api/v1/namespaces/${NS}/secrets${method === 'POST' ? '' : '/x'}`]]);
  });

});

describe('a token file', () => {
  let fake: FakeKube;
  afterEach(() => fake?.stop());

  it('ending with a newline (as `echo token > file` writes it) is sent trimmed', async () => {
    fake = await FakeKube.start({ token: 'file-token' });
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'file-token\n');
    const kubeconfig = fake.kubeconfig({ token: 'unused' }).replace(/token: unused/, `token-file: ${tokenFile}`);
    expect(kubeconfig).toContain('token-file');
    expect((await clientFor(kubeconfig, 'token-file').listSecrets(NS, '')).items).toEqual([]);
  });
});

describe('exec credential plugins (client-node runs them)', () => {
  let fake: FakeKube;
  afterEach(() => fake?.stop());

  const plugin = (name: string, script: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${script}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  const withExec = (kubeconfig: string, command: string) =>
    kubeconfig.replace(/user: \{\}|user:\n(\s+)token: \S+/, `user:\n      exec:\n        apiVersion: client.authentication.k8s.io/v1\n        command: ${command}\n        interactiveMode: Never`);

  it('uses the token the plugin prints', async () => {
    fake = await FakeKube.start({ token: 'from-the-plugin' });
    const command = plugin('cred.sh', `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-the-plugin"}}'`);
    const kubeconfig = withExec(fake.kubeconfig({ token: 'unused' }), command);
    expect(kubeconfig).toContain(command);
    const client = clientFor(kubeconfig, 'exec');
    expect((await client.listSecrets(NS, '')).items).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  it('a plugin that does not exit: KUBE_TIMEOUT after requestTimeoutMs, naming the credentials; nothing sent; not started again while it runs', async () => {
    fake = await FakeKube.start({ token: 'from-the-plugin' });
    const started = path.join(dir, 'hangs.started');
    const command = plugin('hangs.sh', `echo started >> ${started}\nexec sleep 5`);
    const client = clientFor(withExec(fake.kubeconfig({ token: 'unused' }), command), 'exec-hangs', 300);
    const t0 = Date.now();
    const err = await rejected(client.getSecret(NS, 'a'));
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(err.code).toBe('KUBE_TIMEOUT');
    expect(err.message).toBe("get secrets syncgate/a: the credentials of the kubeconfig's current context (an exec or auth plugin) were not ready in time");

    const watchEnded = await new Promise<KubeError | undefined>((resolve) => void client.watchSecrets(NS, 'a=b', '1', { onEvent: () => {}, onEnd: resolve }));
    expect(watchEnded?.code).toBe('KUBE_TIMEOUT');
    expect(watchEnded?.message).toBe("watch secrets in namespace syncgate: the credentials of the kubeconfig's current context (an exec or auth plugin) were not ready in time");
    expect(readFileSync(started, 'utf8')).toBe('started\n');
    expect(fake.requests).toEqual([]);
  });

  it('a failing plugin: KUBE_CONFIG_INVALID, its output not quoted, nothing sent', async () => {
    fake = await FakeKube.start({ token: 'from-the-plugin' });
    const command = plugin('broken.sh', `echo 'plugin-output-4c1e' >&2; exit 3`);
    const client = clientFor(withExec(fake.kubeconfig({ token: 'unused' }), command), 'exec-broken');
    const err = await rejected(client.listSecrets(NS, ''));
    expect(err.code).toBe('KUBE_CONFIG_INVALID');
    expect(err.message).toMatch(/^list secrets in namespace syncgate: cannot prepare the credentials/);
    expect(err.message).not.toContain('plugin-output-4c1e');
    expect(fake.requests).toEqual([]);
  });
});

describe('answers that stall or are malformed', () => {
  let server: Server;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => server.closeAllConnections());
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const client = (requestTimeoutMs = 300) => KubeClient.fromOptions({ server: { url }, requestTimeoutMs });

  interface Ended {
    events: string[];
    err: KubeError | undefined;
    ms: number;
  }
  const watch = async (timeoutSeconds: number) => {
    const events: string[] = [];
    const t0 = Date.now();
    return new Promise<Ended>((resolve) => {
      void client().watchSecrets(NS, 'a=b', '100', { onEvent: (type, s) => events.push(`${type} ${s.metadata?.name}`), onEnd: (err) => resolve({ events, err, ms: Date.now() - t0 }) }, timeoutSeconds);
    });
  };

  it('headers, then a body that never ends: KUBE_TIMEOUT after requestTimeoutMs', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":"Secret",');
    };
    const t0 = Date.now();
    const err = await rejected(client().getSecret(NS, 'x'));
    expect(err.code).toBe('KUBE_TIMEOUT');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it.each([['<html>proxy login</html>'], ['null'], ['[1,2]']])('a 200 that is not a JSON object (%s): KUBE_UNEXPECTED_RESPONSE', async (body) => {
    handler = (_req, res) => res.end(body);
    const err = await rejected(client().listSecrets(NS, 'a=b'));
    expect(err.code).toBe('KUBE_UNEXPECTED_RESPONSE');
    expect(err.message).not.toContain('proxy login');
  });

  it('a watch: events split across writes arrive whole and in order; a normal end is no error', async () => {
    handler = (req, res) => {
      expect(new URL(req.url!, url).searchParams.get('timeoutSeconds')).toBe('5');
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{"metadata":{"name":"one"}}}\n{"type":"MODI');
      setTimeout(() => res.end('FIED","object":{"metadata":{"name":"two"}}}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}'), 50);
    };
    const ended = await watch(5);
    expect(ended.err).toBeUndefined();
    expect(ended.events).toEqual(['ADDED one', 'MODIFIED two', 'BOOKMARK undefined']);
  });

  it('a watch whose headers never come: KUBE_TIMEOUT after requestTimeoutMs', async () => {
    handler = () => {};
    const ended = await watch(5);
    expect(ended.err?.code).toBe('KUBE_TIMEOUT');
    expect(ended.ms).toBeLessThan(3_000);
  });

  it('a watch that stays silent past timeoutSeconds: cut with KUBE_TIMEOUT', async () => {
    handler = (_req, res) => res.writeHead(200).flushHeaders();
    const ended = await watch(1);
    expect(ended.err?.code).toBe('KUBE_TIMEOUT');
    expect(ended.ms).toBeGreaterThanOrEqual(1_200);
    expect(ended.ms).toBeLessThan(4_000);
  });

  it('a malformed watch event ends the watch with KUBE_UNEXPECTED_RESPONSE; events before it were delivered', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{"metadata":{"name":"one"}}}\nnot json\n{"type":"ADDED","object":{"metadata":{"name":"late"}}}\n');
    };
    const ended = await watch(5);
    expect(ended.err?.code).toBe('KUBE_UNEXPECTED_RESPONSE');
    expect(ended.events).toEqual(['ADDED one']);
  });

  // Without the guard, vitest fails the run: it reports the uncaught exception.
  it('a handler that throws when the watch ends does not stop the process', async () => {
    handler = (_req, res) => res.writeHead(200).end();
    const ended = await new Promise<void>((resolve) => {
      void client().watchSecrets(NS, 'a=b', '100', {
        onEvent: () => {},
        onEnd: () => {
          setTimeout(resolve, 50);
          throw new Error('handler bug');
        },
      });
    });
    expect(ended).toBeUndefined();
  });

  it('a watch refused with 403: KUBE_FORBIDDEN', async () => {
    handler = (_req, res) => res.writeHead(403, { 'content-type': 'application/json' }).end('{"kind":"Status","reason":"Forbidden","code":403}');
    const ended = await watch(5);
    expect(ended.err?.code).toBe('KUBE_FORBIDDEN');
  });
});
