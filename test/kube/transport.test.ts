/**
 * How the client connects: TLS verified against the kubeconfig's CA, client certificates (rotated
 * on disk, directly and through a proxy-url), exec credential plugins (all prepared by
 * client-node's KubeConfig), kept-alive connections (idle lifetime, a stale connection), and the
 * bounds on credentials, answers and watches that stall or are malformed.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient, type KubeError, loadKubeConfig } from '../../src/kube/index.js';
import { VERSION } from '../../src/package-root.js';
import { ConnectProxy } from '../helpers/connect-proxy.js';
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
    ['directly', false],
    ['through the proxy-url', true],
  ])('a client certificate rotated on disk (%s)', (_how, viaProxy) => {
    let proxy: ConnectProxy | undefined;
    afterEach(() => proxy?.stop());

    it('is presented from the next request on, on a new connection; requests before it share one', async () => {
      fake = await FakeKube.start({ tls: { cert: server.cert, key: server.key, clientCa: ca.cert } });
      proxy = viaProxy ? await ConnectProxy.start() : undefined;
      const certFile = path.join(dir, `rotating-${String(viaProxy)}.crt`);
      const keyFile = path.join(dir, `rotating-${String(viaProxy)}.key`);
      writeFileSync(certFile, gateCert.cert);
      writeFileSync(keyFile, gateCert.key);
      const client = clientFor(fake.kubeconfig({ ca: ca.cert, clientCert: { certFile, keyFile }, ...(proxy ? { proxyUrl: proxy.url } : {}) }), `rotating-${String(viaProxy)}`);
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
  beforeEach(async () => {
    connections = [];
    server = createServer((req, res) => {
      const socket = req.socket as Socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      handler(req, res, socket.served, connections.indexOf(socket) + 1);
    });
    server.on('connection', (socket: Socket) => connections.push(socket));
    server.keepAliveTimeout = 60_000; // only the client closes idle connections here
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    client = KubeClient.fromOptions({ server: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, idleSocketMs: 300 });
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const secret = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name } });

  it('are closed by the client once unused for idleSocketMs; the next request opens another', async () => {
    handler = (_req, res) => res.end(secret('a'));
    await client.getSecret(NS, 'a');
    await client.getSecret(NS, 'a');
    expect(connections).toHaveLength(1);
    const t0 = Date.now();
    const closed = await new Promise((r) => {
      connections[0]!.once('close', () => r(true));
      setTimeout(() => r(false), 3_000);
    });
    expect(closed).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    await client.getSecret(NS, 'a');
    expect(connections).toHaveLength(2);
  });

  it('one the server closed as a request was sent on it: the request is sent again on a new connection', async () => {
    // The server drops its first connection when a second request arrives on it, without an answer.
    handler = (req, res, served, connection) => (connection === 1 && served === 2 ? req.socket.destroy() : res.end(secret(`served-${connection}-${served}`)));
    expect((await client.getSecret(NS, 'x'))?.metadata?.name).toBe('served-1-1');
    expect((await client.getSecret(NS, 'x'))?.metadata?.name).toBe('served-2-1');
    expect(connections).toHaveLength(2);
  });

  it('… but not a create, which the server may have carried out: KUBE_UNREACHABLE', async () => {
    handler = (req, res, served, connection) => (connection === 1 && served === 2 ? req.socket.destroy() : res.end(secret('created')));
    await client.getSecret(NS, 'x');
    const err = await rejected(client.createSecret(NS, { metadata: { name: 'created' } }));
    expect(err.code).toBe('KUBE_UNREACHABLE');
    expect(connections).toHaveLength(1);
  });

  it('a watch that is quiet for longer than idleSocketMs is not cut', async () => {
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

  it('a plugin that does not exit: KUBE_TIMEOUT after requestTimeoutMs, naming the credentials; nothing sent', async () => {
    fake = await FakeKube.start({ token: 'from-the-plugin' });
    const command = plugin('hangs.sh', 'exec sleep 5');
    const client = clientFor(withExec(fake.kubeconfig({ token: 'unused' }), command), 'exec-hangs', 300);
    const t0 = Date.now();
    const err = await rejected(client.getSecret(NS, 'a'));
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(err.code).toBe('KUBE_TIMEOUT');
    expect(err.message).toBe("get secrets syncgate/a: the credentials of the kubeconfig's current context (an exec or auth plugin) were not ready in time");
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
