/**
 * Secret hygiene end to end: drive the whole system with known plaintexts, collect every log
 * line (the gate's logger at trace level, the CLI's stderr), audit record (the files and the HTTP
 * and CLI exports), error message (every HTTP answer, every CLI output) and metric, and fail if
 * any plaintext, sealing private key or token appears in any of them, raw, base64 (standard, no
 * padding, URL-safe) or hex.
 *
 * Two outputs carry plaintext by design and are not scanned for it: the inline-delivery answer
 * (opt-in: `inlineSecrets`) and `syncgate unseal`'s stdout (its job). The fake API server
 * receives the Secret it is meant to hold. Everything else is.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from '../../src/config/defaults.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { formatPrivateKey, formatPublicKey, generateSealingKey, sealSecret, type SealingKey } from '../../src/secrets/index.js';
import { rawPrivateKey } from '../../src/secrets/nacl-box.js';
import { startGate, type RunningGate } from '../../src/server/start.js';
import { runCliInput } from '../cli/sealing-helpers.js';
import { FakeKube } from '../helpers/fake-kube.js';
import { selfSignedCert } from '../helpers/tls.js';

/** Every form a secret could leak in. */
function forms(secret: string | Buffer): string[] {
  const b = Buffer.isBuffer(secret) ? secret : Buffer.from(secret);
  const b64 = b.toString('base64');
  return [...new Set([...(Buffer.isBuffer(secret) ? [] : [secret]), b64, b64.replace(/=+$/, ''), b.toString('base64url'), b.toString('hex'), b.toString('hex').toUpperCase()])];
}

const plain = (what: string) => `hyg-${what}-${randomBytes(12).toString('hex')}`;
const SECRETS = {
  apiserver: plain('apiserver'),
  inline: plain('inline'),
  tampered: plain('tampered'),
  wrongKey: plain('wrongkey'),
  kubeFault: plain('kubefault'),
  validate: plain('validate'),
  plainSecret: plain('plain-secret-in-git'),
  admission: plain('admission'),
  cliSeal: plain('cli-seal'),
  cliReseal: plain('cli-reseal'),
  cliUnsealBad: plain('cli-unseal-bad'),
  gateToken: plain('gate-token'),
  adminToken: plain('admin-token'),
};

/** Fails a Secret in manifests or admission: the check compares its value, so a message could echo it. */
const SECRET_POLICY = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: no-plain-secrets
spec:
  rules:
    - name: no-secret
      match:
        any:
          - kind: Secret
      assert:
        all:
          - message: plain Secrets are not allowed in Git
            check:
              stringData:
                password: not-this-value
`;

describe('no plaintext, key or token in any log, record, message or metric', () => {
  const collected: Array<{ where: string; text: string }> = [];
  const logLines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  let dir: string;
  let key: SealingKey;
  let otherKey: SealingKey;
  let fake: FakeKube;
  let apiGate: RunningGate;
  let inlineGate: RunningGate;
  let ca: Buffer;
  let example: { revision: string; commit: string };

  const keep = (where: string, text: string) => collected.push({ where, text });
  const call = async (gate: RunningGate, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gate.url}${p}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.gateToken}`, ...headers }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, text };
  };
  const secretManifest = (name: string, value: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'shop' }, stringData: { password: value } });
  const sealed = (name: string, value: string, k: SealingKey = key) => sealSecret(secretManifest(name, value), k, { scope: 'strict' });
  const app = { name: 'shop', project: 'default', destination: { namespace: 'shop' } };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'syncgate-hygiene-'));
    example = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8')) as typeof example;
    key = generateSealingKey();
    otherKey = generateSealingKey();
    await mkdir(path.join(dir, 'keys'));
    await writeFile(path.join(dir, 'keys', `sealing-${key.keyId}.key`), formatPrivateKey(key), { mode: 0o600 });
    await writeFile(path.join(dir, 'sealing.pub'), formatPublicKey(key));
    await writeFile(path.join(dir, 'gate-token'), `${SECRETS.gateToken}\n`);
    await writeFile(path.join(dir, 'admin-token'), `${SECRETS.adminToken}\n`);
    await mkdir(path.join(dir, 'policies'));
    await writeFile(path.join(dir, 'policies', 'no-plain-secrets.yaml'), SECRET_POLICY);
    fake = await FakeKube.start({ token: 'kube-token' });
    await writeFile(path.join(dir, 'kubeconfig'), fake.kubeconfig({ token: 'kube-token' }));
    const tls = await selfSignedCert();
    ca = readFileSync(tls.certFile);

    const base = {
      listen: '127.0.0.1:0',
      trust: { ...EMBEDDED_DEFAULTS.trust, keyrings: [path.join(PACKAGE_ROOT, 'keys.example', 'dev-signing-key.pub.asc')] },
      policies: { paths: [path.join(dir, 'policies')] },
      auth: { gateTokens: [{ name: 'argocd', tokenFile: path.join(dir, 'gate-token') }], adminTokens: [{ name: 'audit', tokenFile: path.join(dir, 'admin-token') }] },
      log: { level: 'trace' as const },
    };
    const logger = createLogger('trace', logStream);
    apiGate = await startGate(
      parseConfig(
        {
          ...base,
          audit: { path: path.join(dir, 'api', 'audit.jsonl') },
          sealing: { keyFiles: [path.join(dir, 'keys')], delivery: 'apiserver', kubernetes: { kubeconfig: path.join(dir, 'kubeconfig'), namespace: 'syncgate' } },
          admission: { listen: '127.0.0.1:0', certFile: tls.certFile, keyFile: tls.keyFile },
        },
        'test',
        dir,
      ),
      logger,
    );
    inlineGate = await startGate(parseConfig({ ...base, audit: { path: path.join(dir, 'inline', 'audit.jsonl') }, sealing: { keyFiles: [path.join(dir, 'keys')], delivery: 'inline' } }, 'test', dir), logger);
    await apiGate.ready;
    await inlineGate.ready;
  });
  afterAll(async () => {
    await apiGate?.close();
    await inlineGate?.close();
    await fake?.stop();
  });

  it('drives the gate (both deliveries), admission, the sealing-key endpoints, auth failures and exports', async () => {
    // Apiserver delivery: allowed, the Secret lands in the (fake) API server only.
    const ok = await call(apiGate, 'POST', '/v1/gate', { ...example, application: app, manifests: [sealed('db', SECRETS.apiserver)] });
    expect(ok.status, ok.text).toBe(200);
    expect(Buffer.from(fake.secrets.get('shop/db')!.data!.password!, 'base64').toString()).toBe(SECRETS.apiserver);
    keep('POST /v1/gate apiserver allow', ok.text);
    // Tampered (moved), wrong key, API server refusing, and a plain Secret the policy denies.
    const moved = sealed('db', SECRETS.tampered);
    moved.metadata.name = 'stolen';
    for (const [what, manifests] of [
      ['moved', [moved]],
      ['wrong key', [sealed('db', SECRETS.wrongKey, otherKey)]],
      ['plain Secret in Git', [secretManifest('plain', SECRETS.plainSecret)]],
    ] as const) {
      const r = await call(apiGate, 'POST', '/v1/gate', { ...example, application: app, manifests });
      expect(r.status, `${what}: ${r.text}`).toBe(403);
      keep(`POST /v1/gate ${what}`, r.text);
    }
    fake.failNext(500, { method: 'PATCH' });
    const fault = await call(apiGate, 'POST', '/v1/gate', { ...example, application: app, manifests: [sealed('db', SECRETS.kubeFault)] });
    expect(fault.status).toBe(403);
    keep('POST /v1/gate kube fault', fault.text);
    // Bad requests that carry a secret in odd places (echo risk in parse errors).
    for (const body of [`{"revision":"${SECRETS.plainSecret}"}`, `{"manifests": "kind: Secret\\nstringData: {password: ${SECRETS.plainSecret}}\\n: :"}`]) {
      keep('POST /v1/gate bad request', (await call(apiGate, 'POST', '/v1/gate', body)).text);
    }

    // Inline delivery (opt-in): the answer carries the Secret by design; its logs and records must not.
    const inline = await call(inlineGate, 'POST', '/v1/gate', { ...example, application: app, manifests: [sealed('db', SECRETS.inline)] });
    expect(inline.status).toBe(200);
    const inlineJson = JSON.parse(inline.text) as Record<string, unknown>;
    expect(JSON.stringify(inlineJson.inlineSecrets)).toContain(Buffer.from(SECRETS.inline).toString('base64'));
    keep('POST /v1/gate inline (without inlineSecrets)', JSON.stringify({ ...inlineJson, inlineSecrets: undefined }));

    // Sealing-key endpoints.
    keep('GET /v1/sealing-key', (await call(apiGate, 'GET', '/v1/sealing-key')).text);
    keep('POST /v1/sealing-key/validate ok', (await call(apiGate, 'POST', '/v1/sealing-key/validate', sealed('db', SECRETS.validate))).text);
    keep('POST /v1/sealing-key/validate wrong key', (await call(apiGate, 'POST', '/v1/sealing-key/validate', sealed('db', SECRETS.validate, otherKey))).text);
    keep('POST /v1/sealing-key/validate plain', (await call(apiGate, 'POST', '/v1/sealing-key/validate', secretManifest('x', SECRETS.validate))).text);

    // Authentication failures (with near-miss tokens) and the probes, metrics and 404.
    keep('POST /v1/gate wrong token', (await call(apiGate, 'POST', '/v1/gate', {}, { authorization: `Bearer ${SECRETS.gateToken}x` })).text);
    keep('GET /v1/audit wrong token', (await call(apiGate, 'GET', '/v1/audit', undefined, { authorization: `Bearer ${SECRETS.adminToken.slice(0, -1)}` })).text);
    for (const p of ['/healthz', '/readyz', '/metrics', '/v1/nope']) keep(`GET ${p}`, (await call(apiGate, 'GET', p)).text);

    // Admission: a Secret object with its plaintext, denied by the policy (the message must not echo the value).
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u-1', kind: { group: '', version: 'v1', kind: 'Secret' }, operation: 'CREATE', namespace: 'shop', name: 'adm', object: { ...secretManifest('adm', SECRETS.admission), data: { token: Buffer.from(SECRETS.admission).toString('base64') } } },
    };
    const admission = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(new URL('/v1/admission', apiGate.admission!.url), { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end(JSON.stringify(review));
    });
    expect(JSON.parse(admission)).toMatchObject({ response: { allowed: false } });
    keep('POST /v1/admission', admission);

    // The audit export over HTTP in every format.
    for (const format of ['jsonl', 'csv', 'ocsf']) {
      const r = await call(apiGate, 'GET', `/v1/audit?format=${format}`, undefined, { authorization: `Bearer ${SECRETS.adminToken}` });
      expect(r.status).toBe(200);
      keep(`GET /v1/audit ${format}`, r.text);
    }
    // Metrics after all that (reason labels of every failure).
    keep('GET /metrics (end)', (await call(apiGate, 'GET', '/metrics')).text);
  });

  it('drives the CLI: seal, reseal, unseal and their error paths, and audit export', async () => {
    const secretYaml = (value: string) => yaml.dump(secretManifest('cli', value));
    const seal = await runCliInput(['seal', '--key', path.join(dir, 'sealing.pub')], secretYaml(SECRETS.cliSeal));
    expect(seal.code).toBe(0);
    keep('seal stdout', seal.stdout);
    keep('seal stderr', seal.stderr);
    // Error paths of seal: not a Secret, an unreadable key, a bad scope.
    for (const args of [['seal', '--key', path.join(dir, 'sealing.pub'), '--scope', 'galaxy'], ['seal', '--key', path.join(dir, 'missing.pub')], ['seal', '--key', path.join(dir, 'keys', `sealing-${key.keyId}.key`)]]) {
      const r = await runCliInput(args, secretYaml(SECRETS.cliSeal));
      expect(r.code).not.toBe(0);
      keep(`${args.join(' ')} stdout`, r.stdout);
      keep(`${args.join(' ')} stderr`, r.stderr);
    }
    const reseal = await runCliInput(['reseal', '--key-dir', path.join(dir, 'keys')], yaml.dump(sealed('cli', SECRETS.cliReseal)));
    expect(reseal.code).toBe(0);
    keep('reseal stdout', reseal.stdout);
    keep('reseal stderr', reseal.stderr);
    // unseal: stdout is the plaintext by design (not scanned); stderr is. Error paths: wrong key, tampered value.
    const unseal = await runCliInput(['unseal', '--key-dir', path.join(dir, 'keys')], yaml.dump(sealed('cli', SECRETS.cliReseal)));
    expect(unseal.code).toBe(0);
    keep('unseal stderr', unseal.stderr);
    const tampered = sealed('cli', SECRETS.cliUnsealBad);
    tampered.metadata.namespace = 'elsewhere';
    for (const input of [yaml.dump(sealed('cli', SECRETS.cliUnsealBad, otherKey)), yaml.dump(tampered)]) {
      const r = await runCliInput(['unseal', '--key-dir', path.join(dir, 'keys')], input);
      expect(r.code).not.toBe(0);
      keep('unseal error stdout', r.stdout);
      keep('unseal error stderr', r.stderr);
    }
    for (const format of ['jsonl', 'csv', 'ocsf']) {
      const r = await runCliInput(['audit', 'export', '--log', path.join(dir, 'api', 'audit.jsonl'), '--format', format], undefined);
      expect(r.code).toBe(0);
      keep(`audit export ${format}`, r.stdout + r.stderr);
    }
  });

  it('finds none of the plaintexts, the sealing private key or the tokens anywhere', () => {
    for (const sub of ['api', 'inline']) for (const f of readdirSync(path.join(dir, sub))) keep(`audit file ${sub}/${f}`, readFileSync(path.join(dir, sub, f), 'utf8'));
    keep('gate logs', logLines.join(''));
    // Sanity: the collection is real (decisions, errors and logs were captured).
    const all = collected.map((c) => c.text).join('\n');
    expect(logLines.length).toBeGreaterThan(10);
    expect(all).toContain('SEAL_SCOPE_MISMATCH');
    expect(all).toContain('KUBE_SERVER_ERROR');
    expect(all).toContain('auth.failed');

    const needles: Array<{ name: string; forms: string[] }> = [
      ...Object.entries(SECRETS).map(([name, value]) => ({ name, forms: forms(value) })),
      { name: 'sealing private key (raw)', forms: forms(Buffer.from(rawPrivateKey(key.privateKey))) },
      { name: 'sealing private key (file)', forms: formatPrivateKey(key).split('\n').filter((l) => l.length > 20 && !l.startsWith('-----') && !l.startsWith('#')) },
    ];
    const leaks: string[] = [];
    for (const { where, text } of collected) {
      for (const n of needles) for (const f of n.forms) if (text.includes(f)) leaks.push(`${n.name} in ${where}`);
    }
    expect(leaks).toEqual([]);
  });
});
