import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../helpers/tls.js';
import { startTestGate, type TestGate } from '../server/harness.js';
import { DENY_ALL_POLICY } from './fixtures.js';
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

// The admission webhook over HTTPS with a deny-everything policy: a generated body gets a 4xx with
// a reason code, or a 200 AdmissionReview that admits nothing being created or updated.
describe('POST /v1/admission (HTTPS) with generated bodies', () => {
  let gate: TestGate;
  let agent: Agent;

  const post = (body: string, type: string): Promise<{ status: number; json: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(new URL('/v1/admission', gate.admission!.url), { method: 'POST', agent, headers: { 'content-type': type } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    const tls = await selfSignedCert();
    agent = new Agent({ ca: await readFile(tls.certFile), keepAlive: true, maxSockets: 4 });
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-fuzz-admission-'));
    await mkdir(path.join(dir, 'policies'));
    await writeFile(path.join(dir, 'policies', 'deny-all.yaml'), DENY_ALL_POLICY);
    gate = await startTestGate({
      limits: { bodyBytes: 16 * 1024 },
      policies: { paths: [path.join(dir, 'policies')] },
      admission: { listen: '127.0.0.1:0', certFile: tls.certFile, keyFile: tls.keyFile },
    });
  });
  afterAll(async () => {
    agent?.destroy();
    await gate?.close();
  });

  it('answers 400 REQUEST_UNREADABLE (not 500) to a body in a charset or content-encoding it cannot read', async () => {
    const latin1 = await post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: {} } }), 'application/json; charset=latin1');
    expect(latin1.status).toBe(400);
    expect(latin1.json.reasons).toEqual([expect.objectContaining({ code: 'REQUEST_UNREADABLE' })]);
    const gzip = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(new URL('/v1/admission', gate.admission!.url), { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-encoding': 'br-nope' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(gzip).toBe(400);
  });

  it(
    'answers 4xx with a reason code, or 200 admitting no CREATE/UPDATE',
    async () => {
      const object = fc.record({ apiVersion: fc.constantFrom('v1', 'apps/v1'), kind: fc.constantFrom('Pod', 'ConfigMap'), metadata: fc.record({ name: fc.string({ maxLength: 20 }) }), spec: fc.jsonValue({ maxDepth: 3 }) });
      const review = fc
        .record({
          uid: fc.oneof(fc.uuid(), fc.string({ maxLength: 10 })),
          operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'PATCH'),
          object: fc.oneof(object, fc.jsonValue({ maxDepth: 3 })),
          apiVersion: fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'),
        })
        .map((r) => JSON.stringify({ apiVersion: r.apiVersion, kind: 'AdmissionReview', request: { uid: r.uid, kind: { group: '', version: 'v1', kind: 'Pod' }, operation: r.operation, object: r.object } }));
      const body = fc.oneof(
        review,
        fc.string({ maxLength: 300 }),
        fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
        fc.nat(40_000).map((n) => `{"apiVersion":"${'a'.repeat(n)}"}`),
      );
      const type = fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1');
      let reviewed = 0;
      await fc.assert(
        fc.asyncProperty(body, type, async (b, t) => {
          const { status, json } = await post(b, t);
          if (status === 200) {
            reviewed++;
            const response = json.response as { allowed: boolean; status?: { reason: string } };
            const op = (JSON.parse(b) as { request: { operation: string } }).request.operation;
            if (op === 'CREATE' || op === 'UPDATE') {
              expect(response.allowed).toBe(false);
              expect(response.status!.reason).toMatch(/^(Forbidden|[A-Z][A-Z0-9_]+)$/);
            }
            return;
          }
          expect([400, 413]).toContain(status);
          expect((json.reasons as Array<{ code: string }>)[0]!.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
        }),
        { numRuns: Math.min(FUZZ_RUNS, 2_000) },
      );
      expect(reviewed).toBeGreaterThan(0);
      expect((await post('', 'application/json')).status).toBe(400);
    },
    FUZZ_TIMEOUT_MS,
  );
});
