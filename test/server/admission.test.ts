import { copyFile, readFile, mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../helpers/tls.js';
import { startTestGate, type TestGate } from './harness.js';

const POLICY = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: no-privileged
spec:
  rules:
    - name: no-privileged-containers
      match:
        any:
          - kind: Pod
      assert:
        all:
          - message: privileged containers are not allowed
            check:
              spec:
                ~.containers:
                  (securityContext.privileged || \`false\`): false
---
apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: owner-label
  annotations:
    syncgate.dev/mode: audit
spec:
  rules:
    - name: has-owner
      assert:
        all:
          - message: an owner label is expected
            check:
              (metadata.labels.owner != null): true
`;

function pod(name: string, privileged: boolean) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'apps' }, spec: { containers: [{ name: 'c', image: 'r.example/c:1', securityContext: { privileged } }] } };
}

function review(object: unknown, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      name: 'p',
      namespace: 'apps',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:flux-system:kustomize-controller', groups: ['system:serviceaccounts'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      ...extra,
    },
  };
}

const BODY_LIMIT = 256 * 1024;

describe('POST /v1/admission (ValidatingWebhook over HTTPS)', () => {
  let gate: TestGate;
  let ca: Buffer;
  let tls: { certFile: string; keyFile: string };

  const post = (body: unknown): Promise<{ status: number; json: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const url = new URL('/v1/admission', gate.admission!.url);
      const req = httpsRequest(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(typeof body === 'string' ? body : JSON.stringify(body));
    });

  beforeAll(async () => {
    tls = await selfSignedCert();
    ca = await readFile(tls.certFile);
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-admission-'));
    await mkdir(path.join(dir, 'policies'));
    await writeFile(path.join(dir, 'policies', 'pods.yaml'), POLICY);
    gate = await startTestGate({
      policies: { paths: [path.join(dir, 'policies')] },
      admission: { listen: '127.0.0.1:0', certFile: tls.certFile, keyFile: tls.keyFile },
      limits: { bodyBytes: BODY_LIMIT },
    });
  });
  afterAll(async () => gate?.close());

  it('allows a compliant object, echoing the uid, with audit-mode findings as warnings', async () => {
    const { status, json } = await post(review(pod('ok', false)));
    expect(status).toBe(200);
    expect(json).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true } });
    const response = json.response as { warnings: string[]; auditAnnotations: Record<string, string> };
    expect(response.warnings).toEqual([expect.stringContaining('owner-label/has-owner')]);
    expect(response.auditAnnotations['syncgate.dev/decision-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('denies a violating object with a message naming the policy and rule', async () => {
    const { json } = await post(review(pod('bad', true)));
    expect(json.response).toMatchObject({ allowed: false, status: { code: 403, message: expect.stringContaining('no-privileged/no-privileged-containers') } });
  });

  it('gives a dry run the same answer and records it as a dry run', async () => {
    const { json } = await post(review(pod('bad', true), { dryRun: true }));
    expect(json.response).toMatchObject({ allowed: false });
    const records = await gate.records();
    const dry = records.filter((r) => r.type === 'admission' && r.dryRun === true);
    expect(dry).toHaveLength(1);
    expect(dry[0]).toMatchObject({ allowed: false, user: 'system:serviceaccount:flux-system:kustomize-controller', resource: { kind: 'Pod', name: 'bad' } });
  });

  it('allows DELETE (nothing is being admitted) and denies CREATE without an object', async () => {
    expect((await post(review(null, { operation: 'DELETE', oldObject: pod('x', true) }))).json.response).toMatchObject({ allowed: true });
    const missing = await post(review(undefined));
    expect(missing.json.response).toMatchObject({ allowed: false, status: { code: 400, reason: 'ADMISSION_OBJECT_MISSING' } });
  });

  it('answers 400 to an unknown AdmissionReview version or a missing request', async () => {
    const v1beta1 = await post({ ...review(pod('p', false)), apiVersion: 'admission.k8s.io/v1beta1' });
    expect(v1beta1.status).toBe(400);
    expect(v1beta1.json.reasons).toEqual([expect.objectContaining({ code: 'ADMISSION_REVIEW_INVALID', location: { path: 'apiVersion' } })]);
    const noRequest = await post({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(noRequest.status).toBe(400);
    expect((await post('{not json')).status).toBe(400);
  });

  /** A POST with the given headers and raw body bytes (chunked when no content-length is given). */
  const postRaw = (body: Buffer, headers: Record<string, string>, pathAndQuery = '/v1/admission'): Promise<{ status: number; json: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(new URL(pathAndQuery, gate.admission!.url), { method: 'POST', ca, headers }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) as Record<string, unknown> }));
      });
      req.on('error', reject);
      if (headers['content-length'] === undefined) req.write(body.subarray(0, 10));
      req.end(headers['content-length'] === undefined ? body.subarray(10) : body);
    });
  const sized = (body: Buffer, headers: Record<string, string> = {}) => ({ 'content-type': 'application/json', 'content-length': String(body.length), ...headers });

  it('reads the review the same way whatever shape the body arrives in (query, BOM, chunked, gzip, charset)', async () => {
    const json = Buffer.from(JSON.stringify(review(pod('shape', true))));
    const shapes: Array<[string, Buffer, Record<string, string>, string?]> = [
      ['the API server’s ?timeout=10s', json, sized(json), '/v1/admission?timeout=10s'],
      ['a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]), sized(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]))],
      ['leading whitespace', Buffer.concat([Buffer.from(' \r\n\t'), json]), sized(Buffer.concat([Buffer.from(' \r\n\t'), json]))],
      ['chunked', json, { 'content-type': 'application/json' }],
      ['gzip', gzipSync(json), sized(gzipSync(json), { 'content-encoding': 'gzip' })],
      ['charset=utf-8', json, sized(json, { 'content-type': 'application/json; charset=utf-8' })],
    ];
    for (const [name, body, headers, at] of shapes) {
      const { status, json: answer } = await postRaw(body, headers, at);
      expect(status, name).toBe(200);
      expect(answer.response, name).toMatchObject({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: false, status: { code: 403 } });
    }
  });

  it('answers 400 to a body that is JSON but not an object, or not UTF-8, and 413 to one over the limit', async () => {
    for (const text of ['"an AdmissionReview"', '42', ' null', '{"apiVersion": ']) {
      const { status, json } = await postRaw(Buffer.from(text), sized(Buffer.from(text)));
      expect(status, text).toBe(400);
      expect(json.reasons, text).toEqual([expect.objectContaining({ code: 'REQUEST_NOT_JSON' })]);
    }
    const latin1 = Buffer.from(JSON.stringify(review(pod('p', false))), 'latin1');
    // body-parser takes only charsets that start "utf-"; a quoted parameter holding "charset=" is not the charset
    for (const type of ['application/json; charset=latin1', 'application/json; charset=utf8', 'application/json; x="a;charset=utf-8"; charset=latin1']) {
      const unreadable = await postRaw(latin1, sized(latin1, { 'content-type': type }));
      expect(unreadable.status, type).toBe(400);
      expect(unreadable.json.reasons, type).toEqual([expect.objectContaining({ code: 'REQUEST_UNREADABLE' })]);
    }
    const bomOnly = Buffer.from([0xef, 0xbb, 0xbf]);
    const empty = await postRaw(bomOnly, sized(bomOnly));
    expect(empty.status).toBe(400);
    expect(empty.json.reasons).toEqual([expect.objectContaining({ code: 'ADMISSION_REVIEW_INVALID' })]);
    const huge = Buffer.from(JSON.stringify(review({ ...pod('big', false), padding: 'x'.repeat(BODY_LIMIT) })));
    const tooLarge = await postRaw(huge, sized(huge)).catch((err: NodeJS.ErrnoException) => ({ status: err.code === 'EPIPE' || err.code === 'ECONNRESET' ? 413 : 0, json: {} }));
    expect(tooLarge.status).toBe(413);
  });

  it('keeps answering after a client goes away in the middle of a body', async () => {
    const { port } = new URL(gate.admission!.url);
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ca }, () => {
          socket.write('POST /v1/admission HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"apiVersion":');
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 20);
        });
        socket.on('error', reject);
      });
    }
    const { status, json } = await post(review(pod('after', false)));
    expect(status).toBe(200);
    expect(json.response).toMatchObject({ allowed: true });
  });

  it('answers 404 to other paths and methods', async () => {
    const json = Buffer.from(JSON.stringify(review(pod('p', false))));
    expect((await postRaw(json, sized(json), '/v1/admissions')).status).toBe(404);
    expect((await postRaw(json, sized(json), '/v1/admission/x')).status).toBe(404);
  });

  it('picks up a renewed certificate without a restart', async () => {
    const served = () =>
      new Promise<string>((resolve, reject) => {
        const { port } = new URL(gate.admission!.url);
        const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false }, () => {
          resolve(socket.getPeerCertificate().fingerprint256);
          socket.end();
        });
        socket.on('error', reject);
      });
    const before = await served();
    const renewed = await selfSignedCert();
    await copyFile(renewed.keyFile, tls.keyFile);
    await copyFile(renewed.certFile, tls.certFile);
    const until = Date.now() + 10_000;
    let after = before;
    while (after === before && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      after = await served();
    }
    expect(after).not.toBe(before);
    ca = await readFile(tls.certFile);
  });

  it('serves readiness over HTTPS too', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      httpsRequest(new URL('/readyz', gate.admission!.url), { ca }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(res).toBe(200);
  });
});
