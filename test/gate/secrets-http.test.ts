import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPrivateKey, generateSealingKey, sealSecret, type SealingKey } from '../../src/secrets/index.js';
import { FakeKube } from '../helpers/fake-kube.js';
import { catFile, commit, makeRepo, type TestRepo } from '../helpers/git.js';
import { generateKey, makeGpgHome, type GpgHome } from '../helpers/gpg.js';
import { startTestGate, type TestGate } from '../server/harness.js';

const PLAINTEXT = 'correct-horse-battery-staple-7f3a';

function secretManifest(name: string, namespace: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', stringData: data };
}

describe('POST /v1/gate: sealed secrets', () => {
  let gpg: GpgHome;
  let repo: TestRepo;
  let signed: { revision: string; commit: string };
  let key: SealingKey;
  let dir: string;
  let keyring: string;
  let fingerprint: string;
  let fake: FakeKube;
  const gates: TestGate[] = [];

  const start = async (sealing: Record<string, unknown>) => {
    const gate = await startTestGate({
      trust: { keyrings: [keyring], rules: [{ repositories: ['**'], openpgp: { fingerprints: [fingerprint] } }] },
      sealing: { keyFiles: [path.join(dir, 'keys')], ...sealing },
    });
    gates.push(gate);
    return gate;
  };

  beforeAll(async () => {
    gpg = await makeGpgHome();
    const signer = await generateKey(gpg, { name: 'Alice', email: 'alice@example.invalid' });
    fingerprint = signer.fingerprint;
    repo = await makeRepo({ gpg });
    const id = await commit(repo, { sign: signer.fingerprint });
    signed = { revision: id, commit: (await catFile(repo, id)).toString('utf8') };
    dir = await mkdtemp(path.join(tmpdir(), 'syncgate-secrets-http-'));
    keyring = path.join(dir, 'alice.asc');
    await writeFile(keyring, signer.publicKey);
    key = generateSealingKey();
    await mkdir(path.join(dir, 'keys'));
    await writeFile(path.join(dir, 'keys', `sealing-${key.keyId}.key`), formatPrivateKey(key), { mode: 0o600 });
    fake = await FakeKube.start({ token: 'gate-token' });
    await writeFile(path.join(dir, 'kubeconfig'), fake.kubeconfig({ token: 'gate-token' }));
  });
  afterAll(async () => {
    for (const g of gates) await g.close();
    await fake?.stop();
    await repo?.cleanup();
    await gpg?.cleanup();
  });

  const app = { name: 'shop', project: 'default', destination: { namespace: 'shop' } };
  const sealed = (name: string, data: Record<string, string> = { password: PLAINTEXT }) => sealSecret(secretManifest(name, 'shop', data), key, { scope: 'strict' });

  it('serves the active public key and validates a SealedSecret without revealing values', async () => {
    const gate = await start({ delivery: 'inline' });
    const res = await fetch(`${gate.url}/v1/sealing-key`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keyId: string; publicKey: string };
    expect(body.keyId).toBe(key.keyId);
    expect(body.publicKey).toContain('BEGIN PUBLIC KEY');
    expect(body.publicKey).not.toContain('PRIVATE');

    const ok = await fetch(`${gate.url}/v1/sealing-key/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sealed('db')) });
    expect(await ok.json()).toEqual({ ok: true, failures: [] });
    const moved = sealed('db');
    moved.metadata.name = 'other';
    const bad = await fetch(`${gate.url}/v1/sealing-key/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(moved) });
    const badBody = (await bad.json()) as { ok: boolean; failures: Array<{ dataKey: string; code: string }> };
    expect(badBody.ok).toBe(false);
    expect(badBody.failures).toEqual([{ dataKey: 'password', code: expect.stringMatching(/^SEAL_/) }]);
  });

  it('inline delivery (opt-in): the Secret is in the answer, only names and keys in the record', async () => {
    const gate = await start({ delivery: 'inline' });
    const { status, json } = await gate.post({ ...signed, application: app, manifests: [sealed('db')] });
    expect(status).toBe(200);
    const inline = json.inlineSecrets as Array<{ metadata: { name: string }; data: Record<string, string> }>;
    expect(Buffer.from(inline[0]!.data.password!, 'base64').toString()).toBe(PLAINTEXT);
    expect(json.secrets).toMatchObject({ delivered: [{ namespace: 'shop', name: 'db', keys: ['password'], delivery: 'inline' }] });
    const text = await readFile(gate.auditFile, 'utf8');
    expect(text).toContain('"db"');
    expect(text).not.toContain(PLAINTEXT);
    expect(text).not.toContain(Buffer.from(PLAINTEXT).toString('base64'));
  });

  it('denies a tampered or moved value, naming the SealedSecret and data key but never the value', async () => {
    const gate = await start({ delivery: 'inline' });
    const moved = sealed('db');
    moved.metadata.name = 'stolen';
    const { status, json } = await gate.post({ ...signed, application: app, manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' } }, moved] });
    expect(status).toBe(403);
    const reasons = json.reasons as Array<{ code: string; message: string; location: { document: number } }>;
    expect(reasons[0]!.code).toMatch(/^SEAL_/);
    expect(reasons[0]!.message).toContain('shop/stolen');
    expect(reasons[0]!.message).toContain('password');
    expect(reasons[0]!.location.document).toBe(1);
    expect(JSON.stringify(json)).not.toContain(PLAINTEXT);
    expect(json.inlineSecrets).toBeUndefined();
  });

  it('denies SealedSecrets when the gate has no sealing keys', async () => {
    const gate = await startTestGate({ trust: { keyrings: [keyring], rules: [{ repositories: ['**'], openpgp: { fingerprints: [fingerprint] } }] } });
    gates.push(gate);
    const { status, json } = await gate.post({ ...signed, application: app, manifests: [sealed('db')] });
    expect(status).toBe(403);
    expect((json.reasons as Array<{ code: string }>)[0]!.code).toBe('SEALING_NOT_CONFIGURED');
  });

  describe('delivery through the API server', () => {
    let gate: TestGate;
    beforeAll(async () => {
      gate = await start({ delivery: 'apiserver', kubernetes: { kubeconfig: path.join(dir, 'kubeconfig'), namespace: 'syncgate' } });
    });

    it('writes the Secret with server-side apply, labelled and linked to its SealedSecret', async () => {
      const { status, json } = await gate.post({ ...signed, application: app, manifests: [sealed('db'), sealed('api', { token: 't0k3n-value-xyz' })] });
      expect(status, JSON.stringify(json.reasons)).toBe(200);
      expect(json.inlineSecrets).toBeUndefined();
      const stored = fake.secrets.get('shop/db')!;
      expect(Buffer.from(stored.data!.password!, 'base64').toString()).toBe(PLAINTEXT);
      expect(stored.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'syncgate', 'syncgate.dev/unsealed': 'true' });
      expect(stored.metadata.annotations).toMatchObject({ 'syncgate.dev/sealed-secret': 'shop/db', 'syncgate.dev/application': 'default/shop' });
      const apply = fake.requests.find((r) => r.method === 'PATCH' && r.path.endsWith('/secrets/db'))!;
      expect(apply.contentType).toBe('application/apply-patch+yaml');
      expect(apply.query.fieldManager).toBe('syncgate');
    });

    it('deletes a delivered Secret once its SealedSecret leaves Git', async () => {
      const { status, json } = await gate.post({ ...signed, application: app, manifests: [sealed('db')] });
      expect(status).toBe(200);
      expect(json.secrets).toMatchObject({ pruned: [{ namespace: 'shop', name: 'api' }] });
      expect(fake.secrets.has('shop/api')).toBe(false);
      expect(fake.secrets.has('shop/db')).toBe(true);
    });

    it('refuses to overwrite a Secret it did not write', async () => {
      fake.put({ metadata: { name: 'handmade', namespace: 'shop' }, data: { x: 'eA==' } });
      const { status, json } = await gate.post({ ...signed, application: app, manifests: [sealed('handmade')] });
      expect(status).toBe(403);
      expect((json.reasons as Array<{ code: string }>)[0]!.code).toBe('KUBE_NOT_OWNED');
      expect(fake.secrets.get('shop/handmade')!.data).toEqual({ x: 'eA==' });
    });

    it('denies with a specific code when the API server refuses (403) or is down', async () => {
      fake.failNext(403, { method: 'PATCH' });
      const forbidden = await gate.post({ ...signed, application: app, manifests: [sealed('db')] });
      expect(forbidden.status).toBe(403);
      expect((forbidden.json.reasons as Array<{ code: string }>)[0]!.code).toBe('KUBE_FORBIDDEN');

      await fake.down();
      try {
        const down = await gate.post({ ...signed, application: app, manifests: [sealed('db')] });
        expect(down.status).toBe(403);
        expect((down.json.reasons as Array<{ code: string }>)[0]!.code).toMatch(/^KUBE_(UNREACHABLE|TIMEOUT)$/);
      } finally {
        await fake.up();
      }
      const recovered = await gate.post({ ...signed, application: app, manifests: [sealed('db')] });
      expect(recovered.status).toBe(200);
    });

    it('never writes the plaintext to the audit log', async () => {
      const text = await readFile(gate.auditFile, 'utf8');
      expect(text).not.toContain(PLAINTEXT);
      expect(text).not.toContain(Buffer.from(PLAINTEXT).toString('base64'));
      expect(text).not.toContain('t0k3n-value-xyz');
    });
  });
});
