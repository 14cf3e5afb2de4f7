import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGate, type TestGate } from '../server/harness.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';

// Raw bodies and content types over real HTTP on 127.0.0.1: always a JSON answer with a reason
// code and a 4xx status, and the server keeps serving.
describe('POST /v1/gate with generated raw bodies', () => {
  let gate: TestGate;
  beforeAll(async () => {
    gate = await startTestGate({ limits: { bodyBytes: 8 * 1024 } });
  });
  afterAll(async () => gate?.close());

  it(
    'answers 4xx with a coded JSON decision, never 2xx or 5xx',
    async () => {
      const body = fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
        fc.nat(20_000).map((n) => `{"revision":"${'a'.repeat(n)}"}`),
      );
      const type = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1');
      await fc.assert(
        fc.asyncProperty(body, type, async (b, t) => {
          const res = await fetch(`${gate.url}/v1/gate`, { method: 'POST', headers: { 'content-type': t }, body: b });
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          const json = (await res.json()) as { allowed: boolean; reasons: Array<{ code: string }> };
          expect(json.allowed).toBe(false);
          expect(json.reasons[0]!.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
        }),
        { numRuns: Math.min(FUZZ_RUNS, 2_000) },
      );
      expect((await fetch(`${gate.url}/healthz`)).status).toBe(200);
    },
    FUZZ_TIMEOUT_MS,
  );
});
