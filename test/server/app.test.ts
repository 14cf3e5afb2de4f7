import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate, type TestGate } from './harness.js';

/** An unsigned commit made by real git (signature tests live in gate.test.ts). */
async function unsignedCommit(): Promise<{ revision: string; commit: string }> {
  const repo = await mkdtemp(path.join(tmpdir(), 'syncgate-repo-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, '-c', 'user.name=T', '-c', 'user.email=t@example.invalid', ...args], { encoding: 'utf8' }).trim();
  git('init', '-q');
  const tree = git('hash-object', '-t', 'tree', '-w', '/dev/null');
  const revision = git('commit-tree', '-m', 'unsigned', tree);
  return { revision, commit: `${git('cat-file', 'commit', revision)}\n` };
}

const manifests = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ns}\n';

describe('HTTP server', () => {
  let gate: TestGate;
  let unsigned: { revision: string; commit: string };

  beforeAll(async () => {
    unsigned = await unsignedCommit();
    gate = await startTestGate({ limits: { bodyBytes: 64 * 1024, requestTimeoutMs: 1_500, headersTimeoutMs: 1_000 } });
  });
  afterAll(async () => gate.close());

  it('answers health and readiness, and exposes metrics', async () => {
    expect((await fetch(`${gate.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gate.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    const metrics = await (await fetch(`${gate.url}/metrics`)).text();
    expect(metrics).toContain('syncgate_stage_duration_seconds');
  });

  it('denies an unsigned commit with UNSIGNED and records the decision', async () => {
    const sent = JSON.stringify({ ...unsigned, manifests });
    const { status, json } = await gate.post(sent);
    expect(status).toBe(403);
    expect(json).toMatchObject({ allowed: false, outcome: 'deny', revision: unsigned.revision });
    expect((json.reasons as Array<{ code: string }>)[0]!.code).toBe('UNSIGNED');
    const audit = json.audit as { seq: number; hash: string };
    const record = (await gate.records()).find((r) => r.seq === audit.seq)!;
    expect(record).toMatchObject({ type: 'decision', decisionId: json.decisionId, outcome: 'deny', hash: audit.hash });
    expect(record.requestDigest).toBe(`sha256:${createHash('sha256').update(sent).digest('hex')}`);
  });

  it('denies a commit that does not hash to the revision', async () => {
    const { status, json } = await gate.post({ ...unsigned, revision: 'a'.repeat(40), manifests });
    expect(status).toBe(403);
    expect(json.reasons).toEqual([expect.objectContaining({ code: 'REVISION_MISMATCH', location: { path: 'commit' } })]);
  });

  it('answers 400 with the field path for a schema violation', async () => {
    const { status, json } = await gate.post({ revision: 'xyz', commit: 'c', manifests });
    expect(status).toBe(400);
    expect(json).toMatchObject({ allowed: false, outcome: 'bad_request' });
    expect(json.reasons).toEqual([expect.objectContaining({ code: 'REQUEST_INVALID', location: { path: 'revision' } })]);
  });

  it('answers 400 with the document index for malformed manifests', async () => {
    const { status, json } = await gate.post({ ...unsigned, manifests: `${manifests}---\nkind: [\n` });
    expect(status).toBe(400);
    expect(json.reasons).toEqual([expect.objectContaining({ code: 'MANIFEST_PARSE_ERROR', location: expect.objectContaining({ document: 1 }) })]);
  });

  it('never quotes the body of unparsable JSON in the answer or the record', async () => {
    const bad = await gate.post('xx-SECRET-TOKEN-abc');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).not.toContain('SECRET-TOKEN');
    expect(JSON.stringify(await gate.records())).not.toContain('SECRET-TOKEN');
  });

  it('answers 400 for a body that is not JSON and 415 for another content type, both recorded', async () => {
    const bad = await gate.post('{"revision": ');
    expect(bad.status).toBe(400);
    expect(bad.json.reasons).toEqual([expect.objectContaining({ code: 'REQUEST_NOT_JSON' })]);
    const res = await fetch(`${gate.url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(res.status).toBe(415);
    const records = await gate.records();
    expect(records.filter((r) => r.outcome === 'bad_request').length).toBeGreaterThanOrEqual(2);
  });

  it('answers 413 for an oversize body and keeps serving', async () => {
    const { status, json } = await gate.post({ ...unsigned, manifests: 'x'.repeat(100 * 1024) });
    expect(status).toBe(413);
    expect(json.reasons).toEqual([expect.objectContaining({ code: 'BODY_TOO_LARGE' })]);
    expect((await fetch(`${gate.url}/healthz`)).status).toBe(200);
  });

  it('cuts off a slow client and keeps serving others', async () => {
    const { port } = gate.address;
    const closed = await new Promise<{ ms: number; data: string }>((resolve) => {
      const start = Date.now();
      let data = '';
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write('POST /v1/gate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"revision"');
      });
      socket.on('data', (d) => (data += d.toString()));
      socket.on('close', () => resolve({ ms: Date.now() - start, data }));
    });
    expect(closed.ms).toBeLessThan(10_000);
    expect(closed.data === '' || /^HTTP\/1\.1 (408|400)/.test(closed.data)).toBe(true);
    expect((await fetch(`${gate.url}/healthz`)).status).toBe(200);
  });

  it('answers 404 in JSON for unknown paths', async () => {
    const res = await fetch(`${gate.url}/v1/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ reasons: [{ code: 'NOT_FOUND' }] });
  });

  it('counts decisions by outcome and reason in /metrics', async () => {
    const metrics = await (await fetch(`${gate.url}/metrics`)).text();
    expect(metrics).toMatch(/syncgate_decisions_total\{outcome="deny",reason="UNSIGNED"\} [1-9]/);
    expect(metrics).toMatch(/syncgate_decisions_total\{outcome="bad_request",reason="REQUEST_INVALID"\} [1-9]/);
  });
});

describe('HTTP server with bearer tokens', () => {
  let gate: TestGate;
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-token-'));
    await writeFile(path.join(dir, 'token'), 's3cret-token-value\n');
    gate = await startTestGate({ auth: { gateTokens: [{ name: 'argocd', tokenFile: path.join(dir, 'token') }] } });
  });
  afterAll(async () => gate.close());

  it('refuses a missing or wrong token with 401 and records the failure without the token', async () => {
    expect((await gate.post({})).status).toBe(401);
    expect((await gate.post({}, { authorization: 'Bearer wrong' })).status).toBe(401);
    const records = await gate.records();
    expect(records.filter((r) => r.type === 'auth.failed')).toHaveLength(2);
    expect(JSON.stringify(records)).not.toContain('wrong');
    expect(JSON.stringify(records)).not.toContain('s3cret');
  });

  it('records the token name as the caller identity', async () => {
    const { status, json } = await gate.post({ revision: 'xyz', manifests: [] }, { authorization: 'Bearer s3cret-token-value' });
    expect(status).toBe(400);
    const record = (await gate.records()).find((r) => r.decisionId === json.decisionId)!;
    expect(record.caller).toMatchObject({ identity: 'argocd' });
  });
});

describe('HTTP server without trust material', () => {
  it('is not ready and denies every sync with a specific reason', async () => {
    const gate = await startTestGate({ trust: { keyrings: ['/nonexistent/keys.asc'], rules: [] } });
    try {
      const ready = await fetch(`${gate.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toMatch(/trust material could not be loaded/);
      const unsigned = await unsignedCommit();
      const { status, json } = await gate.post({ ...unsigned, manifests });
      expect(status).toBe(403);
      expect(json.reasons).toEqual([expect.objectContaining({ code: 'TRUST_NOT_LOADED' })]);
    } finally {
      await gate.close();
    }
  });
});

describe('GET /v1/audit behind the admin token', () => {
  let gate: TestGate;
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-admin-'));
    await writeFile(path.join(dir, 'admin'), 'admin-token-value\n');
    gate = await startTestGate({ auth: { adminTokens: [{ name: 'compliance', tokenFile: path.join(dir, 'admin') }] } });
    await gate.post({ revision: 'x', manifests: [] });
  });
  afterAll(async () => gate.close());

  it('streams the decisions as JSON Lines to the admin and refuses everyone else', async () => {
    expect((await fetch(`${gate.url}/v1/audit?format=jsonl`)).status).toBe(401);
    const res = await fetch(`${gate.url}/v1/audit?format=jsonl`, { headers: { authorization: 'Bearer admin-token-value' } });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual(expect.arrayContaining(['gate.start', 'decision']));
    const csv = await fetch(`${gate.url}/v1/audit?format=csv&outcome=deny`, { headers: { authorization: 'Bearer admin-token-value' } });
    expect(csv.status).toBe(200);
    expect((await csv.text()).split('\n')[0]).toContain('decisionId');
  });
});
