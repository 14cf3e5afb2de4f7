import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from '../../src/config/defaults.js';
import { startTestGate, type TestGate } from './harness.js';

// 1,000 concurrent gate requests with mixed outcomes against the real server on 127.0.0.1:
// zero transport errors, every decision the right one, every decision recorded exactly once.
describe('load: 1,000 concurrent decisions', () => {
  let gate: TestGate;
  let allowed: string;
  let denied: string;

  beforeAll(async () => {
    allowed = await readFile(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8');
    denied = await readFile(path.join(PACKAGE_ROOT, 'examples', 'denied-request.json'), 'utf8');
    const trust = { ...EMBEDDED_DEFAULTS.trust, keyrings: [path.join(PACKAGE_ROOT, 'keys.example', 'dev-signing-key.pub.asc')] };
    gate = await startTestGate({ trust, limits: { decisionTimeoutMs: 30_000 } });
  });
  afterAll(async () => gate?.close());

  it('answers every request correctly and audits each decision once', async () => {
    const kinds = Array.from({ length: 1000 }, (_, i) => (['allow', 'deny', 'bad'] as const)[i % 3]!);
    const started = Date.now();
    const answers = await Promise.all(
      kinds.map(async (kind) => {
        const body = kind === 'allow' ? allowed : kind === 'deny' ? denied : '{"revision": 42';
        const res = await fetch(`${gate.url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return { kind, status: res.status, json: (await res.json()) as { decisionId: string; allowed: boolean } };
      }),
    );
    const expected = { allow: 200, deny: 403, bad: 400 };
    for (const a of answers) {
      expect(a.status, JSON.stringify(a.json)).toBe(expected[a.kind]);
      expect(a.json.allowed).toBe(a.kind === 'allow');
    }
    expect(Date.now() - started).toBeLessThan(60_000);

    const decisions = (await gate.records()).filter((r) => r.type === 'decision');
    expect(decisions).toHaveLength(1000);
    const ids = new Set(decisions.map((r) => r.decisionId));
    expect(ids.size).toBe(1000);
    for (const a of answers) expect(ids.has(a.json.decisionId)).toBe(true);
    // Each record names the body its own request sent (bodies are read into reused buffers).
    const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
    const digests = { allow: digestOf(allowed), deny: digestOf(denied) };
    for (const r of decisions) {
      if (r.outcome === 'bad_request') expect(r.requestDigest).toBeNull();
      else expect(r.requestDigest).toBe(digests[r.outcome as 'allow' | 'deny']);
    }
    // The chain is unbroken.
    const all = await gate.records();
    all.forEach((r, i) => {
      if (i > 0) expect(r.prevHash).toBe(all[i - 1]!.hash);
      expect(r.seq).toBe(i + 1);
    });
  });
});
