import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient, loadKubeConfig, contextNamespace, gateNamespace, type KubeError } from '../../src/kube/index.js';
import { FakeKube, deadPort, rejectedWithKubeError as rejected } from '../helpers/fake-kube.js';

const NS = 'syncgate';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const PLAINTEXT = 'kube-client-plaintext-9f3a';

describe('KubeClient against the local API stand-in', () => {
  let fake: FakeKube;
  let client: KubeClient;
  beforeEach(async () => {
    fake = await FakeKube.start({ token: 'test-token' });
    client = KubeClient.fromOptions({ server: { url: fake.url, token: 'test-token' } });
  });
  afterEach(() => fake.stop());

  it('lists with a label selector and returns the list resourceVersion', async () => {
    fake.put({ metadata: { name: 'a', namespace: NS, labels: { k: 'v' } }, data: { x: b64('1') } });
    fake.put({ metadata: { name: 'b', namespace: NS, labels: { k: 'w' } }, data: { x: b64('2') } });
    fake.put({ metadata: { name: 'c', namespace: 'other', labels: { k: 'v' } }, data: { x: b64('3') } });
    const list = await client.listSecrets(NS, 'k=v');
    expect(list.items.map((s) => s.metadata?.name)).toEqual(['a']);
    expect(Number(list.resourceVersion)).toBeGreaterThanOrEqual(103);
    const req = fake.requests.at(-1)!;
    expect(req).toMatchObject({ method: 'GET', path: `/api/v1/namespaces/${NS}/secrets`, query: { labelSelector: 'k=v' } });
  });

  it('gets a Secret, and undefined for 404', async () => {
    fake.put({ metadata: { name: 'a', namespace: NS }, data: { x: b64('1') } });
    expect((await client.getSecret(NS, 'a'))?.data).toEqual({ x: b64('1') });
    expect(await client.getSecret(NS, 'missing')).toBeUndefined();
  });

  it('creates with POST and refuses to replace (409 AlreadyExists → KUBE_CONFLICT)', async () => {
    const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'n' }, data: { k: b64(PLAINTEXT) } };
    const created = await client.createSecret(NS, body);
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    const err = await rejected(client.createSecret(NS, body));
    expect(err.code).toBe('KUBE_CONFLICT');
    expect(err.status).toBe(409);
    expect(err.reason).toBe('AlreadyExists');
    expect(err.message).not.toContain(b64(PLAINTEXT));
  });

  it('applies with PATCH application/apply-patch+yaml, fieldManager syncgate, force=true', async () => {
    const applied = await client.applySecretManifest(NS, 'n', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'n', namespace: NS }, data: { k: b64('v1') } });
    expect(applied.data).toEqual({ k: b64('v1') });
    const req = fake.requests.at(-1)!;
    expect(req.method).toBe('PATCH');
    expect(req.path).toBe(`/api/v1/namespaces/${NS}/secrets/n`);
    expect(req.contentType).toBe('application/apply-patch+yaml');
    expect(req.query).toMatchObject({ fieldManager: 'syncgate', force: 'true' });
    expect(fake.secrets.get(`${NS}/n`)?.data).toEqual({ k: b64('v1') });
  });

  it('deletes with preconditions; 404 → false; a stale uid → KUBE_CONFLICT', async () => {
    const s = fake.put({ metadata: { name: 'd', namespace: NS }, data: { x: b64('1') } });
    const err = await rejected(client.deleteSecretObject(NS, 'd', { uid: '00000000-0000-0000-0000-000000000000' }));
    expect(err.code).toBe('KUBE_CONFLICT');
    expect(fake.secrets.has(`${NS}/d`)).toBe(true);
    expect(await client.deleteSecretObject(NS, 'd', { uid: s.metadata.uid })).toBe(true);
    expect(fake.secrets.has(`${NS}/d`)).toBe(false);
    expect(await client.deleteSecretObject(NS, 'd')).toBe(false);
  });

  it.each([
    [401, 'KUBE_UNAUTHORIZED'],
    [403, 'KUBE_FORBIDDEN'],
    [409, 'KUBE_CONFLICT'],
    [422, 'KUBE_INVALID'],
    [500, 'KUBE_SERVER_ERROR'],
    [503, 'KUBE_SERVER_ERROR'],
    [504, 'KUBE_TIMEOUT'],
  ])('maps HTTP %i to %s without echoing the body', async (statusCode, code) => {
    fake.failNext(statusCode, { method: 'PATCH' });
    const err = await rejected(client.applySecretManifest(NS, 'n', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'n' }, data: { k: b64(PLAINTEXT) } }));
    expect(err.code).toBe(code);
    expect(err.status).toBe(statusCode);
    expect(err.message).toContain(`${NS}/n`);
    expect(err.message).not.toContain('injected');
    expect(JSON.stringify(err)).not.toContain(b64(PLAINTEXT));
  });

  it('a 403 names the verb and resource the service account lacks', async () => {
    fake.failNext(403, { method: 'GET' });
    const err = await rejected(client.listSecrets(NS, 'a=b'));
    expect(err.message).toMatch(/RBAC permission to list secrets in namespace syncgate/);
  });

  it('a wrong token gets 401 from the server (KUBE_UNAUTHORIZED)', async () => {
    const bad = KubeClient.fromOptions({ server: { url: fake.url, token: 'wrong' } });
    expect((await rejected(bad.listSecrets(NS, 'a=b'))).code).toBe('KUBE_UNAUTHORIZED');
  });

  it('a server-side 422 for invalid data is KUBE_INVALID and does not quote the server message', async () => {
    const err = await rejected(client.applySecretManifest(NS, 'n', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'n' }, data: { 'bad key!': 'x' } }));
    expect(err.code).toBe('KUBE_INVALID');
    expect(err.reason).toBe('Invalid');
    expect(err.message).not.toMatch(/Invalid value/);
  });

  it('a server that is down is KUBE_UNREACHABLE', async () => {
    const port = await deadPort();
    const down = KubeClient.fromOptions({ server: { url: `http://127.0.0.1:${port}` } });
    const err = await rejected(down.listSecrets(NS, 'a=b'));
    expect(err.code).toBe('KUBE_UNREACHABLE');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });
});

describe('request bounds', () => {
  let silent: Server;
  afterAll(() => new Promise<void>((r) => silent.close(() => r())));
  it('a server that never answers is KUBE_TIMEOUT after requestTimeoutMs', async () => {
    silent = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as AddressInfo).port;
    const client = KubeClient.fromOptions({ server: { url: `http://127.0.0.1:${port}` }, requestTimeoutMs: 300 });
    const t0 = Date.now();
    const err = await rejected(client.getSecret(NS, 'x'));
    expect(err.code).toBe('KUBE_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5000);
    silent.closeAllConnections();
  });
});

describe('loadKubeConfig', () => {
  let dir: string;
  let fake: FakeKube;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'syncgate-kubeconfig-'));
    fake = await FakeKube.start({ token: 't0k' });
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await fake.stop();
  });

  it('reads a kubeconfig file (and KUBECONFIG) with its token and context namespace', async () => {
    const file = path.join(dir, 'config');
    writeFileSync(file, fake.kubeconfig({ namespace: 'team-a' }));
    const kc = loadKubeConfig({ kubeconfig: file });
    expect(kc.getCurrentCluster()?.server).toBe(fake.url);
    expect(contextNamespace(kc)).toBe('team-a');
    const viaEnv = loadKubeConfig({ env: { KUBECONFIG: file } });
    expect((await new KubeClient(viaEnv).listSecrets('x', 'a=b')).items).toEqual([]);
  });

  it('fails with KUBE_CONFIG_INVALID for a missing file, bad YAML, a missing context, or no in-cluster env', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as KubeError).code;
      }
      return 'no error';
    };
    expect(code(() => loadKubeConfig({ kubeconfig: path.join(dir, 'nope') }))).toBe('KUBE_CONFIG_INVALID');
    const bad = path.join(dir, 'bad');
    writeFileSync(bad, 'clusters: [unclosed');
    expect(code(() => loadKubeConfig({ kubeconfig: bad }))).toBe('KUBE_CONFIG_INVALID');
    const good = path.join(dir, 'good');
    writeFileSync(good, fake.kubeconfig());
    expect(code(() => loadKubeConfig({ kubeconfig: good, context: 'other' }))).toBe('KUBE_CONFIG_INVALID');
    expect(code(() => loadKubeConfig({ inCluster: true, env: {} }))).toBe('KUBE_CONFIG_INVALID');
    expect(code(() => loadKubeConfig({ env: { KUBECONFIG: path.join(dir, 'a') } }))).toBe('KUBE_CONFIG_INVALID');
  });

  it('gateNamespace: POD_NAMESPACE, then the service account file', () => {
    expect(gateNamespace({ POD_NAMESPACE: 'gate-ns' }, dir)).toBe('gate-ns');
    expect(gateNamespace({}, dir)).toBeUndefined();
    writeFileSync(path.join(dir, 'namespace'), 'from-sa\n');
    expect(gateNamespace({}, dir)).toBe('from-sa');
  });
});
