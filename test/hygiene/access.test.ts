/**
 * Access: the default listener is loopback only; admin and audit endpoints need a token (compared
 * in constant time, every token walked); failed authentication is audited; the main listener can
 * serve HTTPS and require client certificates (certificates made by the real openssl).
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { authenticateBearer, loadTokens } from '../../src/server/auth.js';
import { startGate } from '../../src/server/start.js';
import { startTestGate, type TestGate } from '../server/harness.js';
import { issue, makeCa, type Pki } from './pki.js';

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2_000 }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

describe('listening', () => {
  it('defaults to 127.0.0.1 and is not reachable on other interfaces', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-access-'));
    const config = parseConfig({ audit: { path: path.join(dir, 'audit.jsonl') }, log: { level: 'silent' } }, 'test', dir);
    expect(config.listen).toBe('127.0.0.1:8480');
    // The default host with a free port (8480 may be taken on a test machine).
    const gate = await startGate({ ...config, listen: `${config.listen.split(':')[0]}:0` }, createLogger('silent'));
    try {
      expect(gate.address.host).toBe('127.0.0.1');
      expect(gate.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await connects('127.0.0.1', gate.address.port)).toBe(true);
      const external = externalAddress();
      if (external) expect(await connects(external, gate.address.port)).toBe(false);
    } finally {
      await gate.close();
    }
  });
});

describe('tokens', () => {
  it('authenticateBearer compares fixed-length digests, walks every token and tolerates any header', () => {
    process.env.SYNCGATE_TEST_TOKEN_A = 'token-a-value';
    process.env.SYNCGATE_TEST_TOKEN_B = 'token-b-value';
    const tokens = loadTokens(
      [
        { name: 'a', tokenEnv: 'SYNCGATE_TEST_TOKEN_A' },
        { name: 'b', tokenEnv: 'SYNCGATE_TEST_TOKEN_B' },
      ],
      'auth.adminTokens',
    );
    expect(tokens.every((t) => t.digest.length === 32)).toBe(true);
    expect(authenticateBearer('Bearer token-b-value', tokens)).toBe('b');
    expect(authenticateBearer('bearer token-a-value', tokens)).toBe('a');
    // Lengths that differ from the token's, empty, prefixes, unicode, a second word: no throw, no match.
    for (const h of [undefined, '', 'Bearer', 'Bearer ', 'Basic dG9rZW4tYS12YWx1ZQ==', 'Bearer token-a-valu', 'Bearer token-a-value2', `Bearer ${'x'.repeat(100_000)}`, 'Bearer tøken', 'Bearer token-a-value extra', 'token-a-value']) {
      expect(authenticateBearer(h, tokens)).toBeUndefined();
    }
    // An empty token cannot be configured (it would match a header with no value).
    process.env.SYNCGATE_TEST_TOKEN_EMPTY = '  ';
    expect(() => loadTokens([{ name: 'e', tokenEnv: 'SYNCGATE_TEST_TOKEN_EMPTY' }], 'auth.gateTokens')).toThrow(expect.objectContaining({ code: 'TOKEN_EMPTY' }));
  });

  describe('with gate and admin tokens', () => {
    let gate: TestGate;
    beforeAll(async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-access-tokens-'));
      await writeFile(path.join(dir, 'gate'), 'gate-token-1234567890\n');
      await writeFile(path.join(dir, 'admin'), 'admin-token-0987654321\n');
      gate = await startTestGate({
        auth: { gateTokens: [{ name: 'argocd', tokenFile: path.join(dir, 'gate') }], adminTokens: [{ name: 'compliance', tokenFile: path.join(dir, 'admin') }] },
      });
    });
    afterAll(async () => gate?.close());

    it('the audit export needs the admin token: the gate token is not enough, and each failure is audited', async () => {
      const get = (authorization?: string) => fetch(`${gate.url}/v1/audit`, { headers: authorization ? { authorization } : {} });
      expect((await get()).status).toBe(401);
      expect((await get('Bearer gate-token-1234567890')).status).toBe(401);
      expect((await get('Bearer admin-token-0987654321x')).status).toBe(401);
      const ok = await get('Bearer admin-token-0987654321');
      expect(ok.status).toBe(200);
      await ok.text();
      // POST /v1/gate with the admin token is refused too: each token opens its own door only.
      expect((await gate.post({}, { authorization: 'Bearer admin-token-0987654321' })).status).toBe(401);
      const records = await gate.records();
      const failed = records.filter((r) => r.type === 'auth.failed');
      expect(failed.map((r) => r.endpoint)).toEqual(['/v1/audit', '/v1/audit', '/v1/audit', '/v1/gate']);
      expect(records.filter((r) => r.type === 'audit.export')).toHaveLength(1);
      const text = JSON.stringify(records);
      expect(text).not.toContain('gate-token-1234567890');
      expect(text).not.toContain('admin-token-0987654321');
    });

    it('probes and metrics stay open (they reveal no decision content), and metrics count the 401s', async () => {
      expect((await fetch(`${gate.url}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${gate.url}/metrics`)).text();
      expect(metrics).toMatch(/status="401"/);
      expect(metrics).not.toContain('token-');
    });
  });

  it('without admin tokens the audit export is disabled (403), not open', async () => {
    const gate = await startTestGate();
    try {
      const res = await fetch(`${gate.url}/v1/audit`, { headers: { authorization: 'Bearer anything' } });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ reasons: [{ code: 'ADMIN_DISABLED' }] });
    } finally {
      await gate.close();
    }
  });
});

describe('HTTPS and client certificates on the main listener', () => {
  let ca: Pki;
  let otherCa: Pki;
  let server: { certFile: string; keyFile: string };
  let client: { certFile: string; keyFile: string };
  let stranger: { certFile: string; keyFile: string };

  beforeAll(async () => {
    ca = await makeCa();
    otherCa = await makeCa('other-ca');
    server = await issue(ca, 'gate', 'server');
    client = await issue(ca, 'argocd-repo-server', 'client');
    stranger = await issue(otherCa, 'mallory', 'client');
  });

  const call = async (url: string, method: string, pathName: string, options: { cert?: { certFile: string; keyFile: string }; body?: string } = {}) =>
    new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      void (async () => {
        const req = httpsRequest(new URL(pathName, url), {
          method,
          ca: await readFile(ca.caCert),
          ...(options.cert ? { cert: await readFile(options.cert.certFile), key: await readFile(options.cert.keyFile) } : {}),
          headers: { 'content-type': 'application/json' },
        }, (res) => {
          let data = '';
          res.on('data', (d) => (data += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) as Record<string, unknown> }));
        });
        req.on('error', reject);
        req.end(options.body);
      })();
    });

  it('serves HTTPS when tls is configured (and refuses plain HTTP on that port)', async () => {
    const gate = await startTestGate({ tls: { certFile: server.certFile, keyFile: server.keyFile } });
    try {
      expect(gate.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect((await call(gate.url, 'GET', '/healthz')).status).toBe(200);
      const denied = await call(gate.url, 'POST', '/v1/gate', { body: JSON.stringify({ revision: 'x', manifests: [] }) });
      expect(denied.status).toBe(400);
      await expect(fetch(`http://127.0.0.1:${gate.address.port}/healthz`)).rejects.toThrow();
    } finally {
      await gate.close();
    }
  });

  it('with clientCaFile: no certificate or one from another CA cannot connect; a good one is recorded as the caller', async () => {
    const gate = await startTestGate({ tls: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile: ca.caCert } });
    try {
      await expect(call(gate.url, 'GET', '/healthz')).rejects.toThrow();
      await expect(call(gate.url, 'GET', '/healthz', { cert: stranger })).rejects.toThrow();
      const { status, json } = await call(gate.url, 'POST', '/v1/gate', { cert: client, body: JSON.stringify({ revision: 'x', manifests: [] }) });
      expect(status).toBe(400);
      const record = (await gate.records()).find((r) => r.decisionId === json.decisionId)!;
      expect(record.caller).toMatchObject({ identity: 'x509:argocd-repo-server' });
    } finally {
      await gate.close();
    }
  });

  it('a TLS file that cannot be read stops the start with TLS_UNREADABLE, naming the file only', async () => {
    await expect(startTestGate({ tls: { certFile: server.certFile, keyFile: path.join(ca.dir, 'missing.key') } })).rejects.toMatchObject({ code: 'TLS_UNREADABLE', message: expect.stringContaining('missing.key') });
  });

  it('config paths for tls resolve against the config file directory', () => {
    const config = parseConfig({ tls: { certFile: 'tls/tls.crt', keyFile: 'tls/tls.key', clientCaFile: 'tls/ca.crt' } }, 'x.yaml', '/etc/syncgate');
    expect(config.tls).toEqual({ certFile: '/etc/syncgate/tls/tls.crt', keyFile: '/etc/syncgate/tls/tls.key', clientCaFile: '/etc/syncgate/tls/ca.crt' });
    expect(() => parseConfig({ tls: { certFile: 'a' } }, 'x.yaml', '/')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
