/**
 * API server faults under the running gate with sealing keys from Kubernetes and apiserver
 * delivery (test/helpers/fake-kube.ts behind a proxy that can answer late): a missing or
 * malformed key Secret, 401/403/409/500 on the write, the API server down, and slow (answering
 * after the decision deadline). Each is a deny with its own code, and the gate recovers without a
 * restart once the fault clears.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from '../../src/config/defaults.js';
import { keySecretManifest } from '../../src/kube/key-secrets.js';
import { generateSealingKey, sealSecret, type SealingKey } from '../../src/secrets/index.js';
import { FakeKube } from '../helpers/fake-kube.js';
import { startTestGate, type TestGate } from '../server/harness.js';
import { SlowProxy } from './slow-proxy.js';

const PLAINTEXT = 'kube-fault-plaintext-5d2b';
const NS = 'syncgate';

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('API server faults', () => {
  let fake: FakeKube;
  let proxy: SlowProxy;
  let gate: TestGate;
  let key: SealingKey;
  let example: { revision: string; commit: string };

  const app = { name: 'shop', project: 'default', destination: { namespace: 'shop' } };
  const decide = (name = 'db') => gate.post({ ...example, application: app, manifests: [sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'shop' }, stringData: { password: PLAINTEXT } }, key, { scope: 'strict' })] });
  const code = (r: { json: Record<string, unknown> }) => (r.json.reasons as Array<{ code: string }> | undefined)?.[0]?.code;

  beforeAll(async () => {
    example = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8')) as typeof example;
    key = generateSealingKey();
    fake = await FakeKube.start({ token: 'gate-token' });
    proxy = await SlowProxy.start(fake.url);
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-faults-kube-'));
    await writeFile(path.join(dir, 'kubeconfig'), proxy.kubeconfig(fake.kubeconfig({ token: 'gate-token' }), fake.url));
    const trust = { ...EMBEDDED_DEFAULTS.trust, keyrings: [path.join(PACKAGE_ROOT, 'keys.example', 'dev-signing-key.pub.asc')] };
    gate = await startTestGate({
      trust,
      limits: { decisionTimeoutMs: 2_000 },
      sealing: { delivery: 'apiserver', kubernetes: { kubeconfig: path.join(dir, 'kubeconfig'), namespace: NS } },
    });
  });
  afterAll(async () => {
    await gate?.close();
    await proxy?.stop();
    await fake?.stop();
  });

  it('no key Secret: deny SEAL_UNKNOWN_KEY_ID', async () => {
    const r = await decide();
    expect(r.status).toBe(403);
    expect(code(r)).toBe('SEAL_UNKNOWN_KEY_ID');
    expect(fake.secrets.has('shop/db')).toBe(false);
  });

  it('a malformed key Secret: still a deny, the bad Secret reported (key-invalid) without key bytes', async () => {
    const bad = keySecretManifest(key, NS);
    bad.data = { 'sealing.key': Buffer.from('-----BEGIN SYNCGATE SEALING KEY-----\nnot a key\n-----END SYNCGATE SEALING KEY-----\n').toString('base64') };
    fake.put({ metadata: bad.metadata as { name: string; namespace: string; labels: Record<string, string> }, data: bad.data, type: 'Opaque' });
    const records = await until(gate.records, (rs) => rs.some((r) => r.type === 'keys.reload' && r.event === 'key-invalid'));
    expect(records.some((r) => r.type === 'keys.reload' && r.event === 'key-invalid')).toBe(true);
    const r = await decide();
    expect(r.status).toBe(403);
    expect(code(r)).toBe('SEAL_UNKNOWN_KEY_ID');
  });

  it('the key Secret fixed: the watch picks it up and the sync is allowed (recovery without restart)', async () => {
    const good = keySecretManifest(key, NS);
    fake.put({ metadata: good.metadata as { name: string; namespace: string; labels: Record<string, string> }, data: good.data!, type: 'Opaque' });
    const r = await until(decide, (v) => v.status === 200);
    expect(r.status, JSON.stringify(r.json.reasons)).toBe(200);
    expect(Buffer.from(fake.secrets.get('shop/db')!.data!.password!, 'base64').toString()).toBe(PLAINTEXT);
  });

  for (const [status, expected] of [
    [401, 'KUBE_UNAUTHORIZED'],
    [403, 'KUBE_FORBIDDEN'],
    [409, 'KUBE_CONFLICT'],
    [500, 'KUBE_SERVER_ERROR'],
  ] as const) {
    it(`the write answered ${status}: deny ${expected}; the next sync is allowed`, async () => {
      fake.failNext(status, { method: 'PATCH' });
      const r = await decide();
      expect(r.status).toBe(403);
      expect(code(r)).toBe(expected);
      expect(r.json.allowed).toBe(false);
      const after = await decide();
      expect(after.status).toBe(200);
    });
  }

  it('the API server down: deny KUBE_UNREACHABLE; allowed again once it is back', async () => {
    await fake.down();
    try {
      const r = await decide();
      expect(r.status).toBe(403);
      expect(code(r)).toMatch(/^KUBE_(UNREACHABLE|SERVER_ERROR)$/);
    } finally {
      await fake.up();
    }
    const after = await until(decide, (v) => v.status === 200);
    expect(after.status, JSON.stringify(after.json.reasons)).toBe(200);
  });

  it('the API server slow (answers after the decision deadline): deny DECISION_TIMEOUT within the bound, no write starts after the deny; allowed once fast again', async () => {
    proxy.delayMs = 2_500;
    try {
      const start = Date.now();
      const r = await decide('late');
      expect(Date.now() - start).toBeLessThan(2_400);
      expect(r.status).toBe(403);
      expect(code(r)).toBe('DECISION_TIMEOUT');
      // The record is the deny, with no Secret listed as delivered.
      const record = (await gate.records()).find((x) => x.decisionId === r.json.decisionId)!;
      expect(record).toMatchObject({ outcome: 'deny', secrets: [] });
      // The ownership read that was in flight comes back at ~2.5 s; the write that would follow
      // must not be sent for a decision already answered (and recorded) as a deny.
      await new Promise((res) => setTimeout(res, 3_500 - (Date.now() - start)));
      expect(proxy.seen).toContain('GET /api/v1/namespaces/shop/secrets/late');
      expect(proxy.seen).not.toContain('PATCH /api/v1/namespaces/shop/secrets/late');
    } finally {
      proxy.delayMs = 0;
    }
    const after = await until(decide, (v) => v.status === 200);
    expect(after.status, JSON.stringify(after.json.reasons)).toBe(200);
    expect(fake.secrets.has('shop/late')).toBe(false);
  });

  it('no answer or record carries the plaintext', async () => {
    const text = JSON.stringify(await gate.records());
    expect(text).not.toContain(PLAINTEXT);
    expect(text).not.toContain(Buffer.from(PLAINTEXT).toString('base64'));
  });
});
