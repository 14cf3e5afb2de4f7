import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { formatPrivateKey, generateSealingKey, sealSecret } from '../../src/secrets/index.js';
import { FakeKube } from '../helpers/fake-kube.js';
import { commit, makeRepo, type TestRepo } from '../helpers/git.js';
import { generateKey, makeGpgHome, type GpgHome } from '../helpers/gpg.js';
import { startTestGate, type TestGate } from '../server/harness.js';
import { runCli } from './run-cli.js';

const NO_PRIVILEGED = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: no-privileged
spec:
  rules:
    - name: no-privileged-containers
      match:
        any:
          - kind: Deployment
      assert:
        all:
          - message: privileged containers are not allowed
            check:
              spec:
                template:
                  spec:
                    ~.containers:
                      (securityContext.privileged || \`false\`): false
`;

const deployment = (privileged: boolean) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0.0
          securityContext:
            privileged: ${privileged}
`;

describe('syncgate argocd generate (a ConfigManagementPlugin run against the real gate)', () => {
  let gpg: GpgHome;
  let repo: TestRepo;
  let gate: TestGate;
  let fingerprint: string;
  let fake: FakeKube;
  const sealingKey = generateSealingKey();

  beforeAll(async () => {
    gpg = await makeGpgHome();
    const key = await generateKey(gpg, { name: 'Alice', email: 'alice@example.invalid' });
    fingerprint = key.fingerprint;
    repo = await makeRepo({ gpg });
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-argocd-'));
    await mkdir(path.join(dir, 'policies'));
    await writeFile(path.join(dir, 'policies', 'no-privileged.yaml'), NO_PRIVILEGED);
    await writeFile(path.join(dir, 'alice.asc'), key.publicKey);
    await mkdir(path.join(dir, 'keys'));
    await writeFile(path.join(dir, 'keys', `sealing-${sealingKey.keyId}.key`), formatPrivateKey(sealingKey), { mode: 0o600 });
    fake = await FakeKube.start();
    await writeFile(path.join(dir, 'kubeconfig'), fake.kubeconfig());
    gate = await startTestGate({
      trust: { keyrings: [path.join(dir, 'alice.asc')], rules: [{ repositories: ['**'], openpgp: { fingerprints: [key.fingerprint] } }] },
      policies: { paths: [path.join(dir, 'policies')] },
      sealing: { keyFiles: [path.join(dir, 'keys')], kubernetes: { kubeconfig: path.join(dir, 'kubeconfig'), namespace: 'syncgate' } },
    });
  });
  afterAll(async () => {
    await gate?.close();
    await fake?.stop();
    await repo?.cleanup();
    await gpg?.cleanup();
  });

  /** Commits `files` under apps/guestbook and runs the plugin there, as Argo CD would. */
  async function generateAt(files: Record<string, string>, sign: boolean, env: Record<string, string> = {}) {
    const app = path.join(repo.dir, 'apps', 'guestbook');
    await mkdir(app, { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(app, name), text);
    const revision = await commit(repo, sign ? { sign: fingerprint } : {});
    const result = await runCli(['argocd', 'generate'], {
      cwd: app,
      env: {
        ...process.env,
        SYNCGATE_URL: gate.url,
        ARGOCD_APP_NAME: 'guestbook',
        ARGOCD_APP_NAMESPACE: 'shop',
        ARGOCD_APP_PROJECT_NAME: 'default',
        ARGOCD_APP_REVISION: revision,
        ARGOCD_APP_SOURCE_REPO_URL: 'https://github.com/acme/deploy.git',
        ARGOCD_APP_SOURCE_PATH: 'apps/guestbook',
        ...env,
      },
    });
    return { revision, ...result };
  }

  it('prints the manifests of a signed, compliant revision', async () => {
    const { code, stdout, revision } = await generateAt({ 'deploy.yaml': deployment(false), 'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n' }, true);
    expect(code).toBe(0);
    expect(stdout).toContain('kind: Deployment');
    expect(stdout).toContain('kind: Service');
    const record = (await gate.records()).find((r) => r.revision === revision)!;
    expect(record).toMatchObject({ outcome: 'allow', repository: 'https://github.com/acme/deploy.git', application: { name: 'guestbook', project: 'default', destination: { namespace: 'shop' } } });
  });

  it('delivers a sealed Secret to the API server and prints only the SealedSecret', async () => {
    const plaintext = 'db-password-that-must-not-be-printed';
    const sealed = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, stringData: { password: plaintext } }, sealingKey, { scope: 'strict' });
    const { code, stdout, stderr } = await generateAt({ 'deploy.yaml': deployment(false), 'db.sealed.yaml': yaml.dump(sealed) }, true);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('kind: SealedSecret');
    expect(stdout).not.toContain(plaintext);
    expect(stdout).not.toContain(Buffer.from(plaintext).toString('base64'));
    expect(stderr).not.toContain(plaintext);
    expect(Buffer.from(fake.secrets.get('shop/db')!.data!.password!, 'base64').toString()).toBe(plaintext);
  });

  it('denies an unsigned revision: non-zero exit, reasons on stderr, nothing on stdout', async () => {
    const { code, stdout, stderr } = await generateAt({ 'deploy.yaml': deployment(false) }, false);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('UNSIGNED');
  });

  it('denies a policy failure with the policy and rule on stderr', async () => {
    const { code, stdout, stderr } = await generateAt({ 'deploy.yaml': deployment(true) }, true);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('POLICY_FAILED: no-privileged/no-privileged-containers');
  });

  it('fails without output when the gate is unreachable, the revision is missing, or nothing renders', async () => {
    const down = await generateAt({ 'deploy.yaml': deployment(false) }, true, { SYNCGATE_URL: 'http://127.0.0.1:9' });
    expect(down.code).not.toBe(0);
    expect(down.stdout).toBe('');
    expect(down.stderr).toContain('GATE_UNREACHABLE');

    const noRev = await generateAt({ 'deploy.yaml': deployment(false) }, true, { ARGOCD_APP_REVISION: '' });
    expect(noRev.code).not.toBe(0);
    expect(noRev.stderr).toContain('NO_REVISION');

    const unknownRev = await generateAt({ 'deploy.yaml': deployment(false) }, true, { ARGOCD_APP_REVISION: 'f'.repeat(40) });
    expect(unknownRev.code).not.toBe(0);
    expect(unknownRev.stdout).toBe('');
    expect(unknownRev.stderr).toContain('OBJECT_NOT_FOUND');

    const emptyDir = path.join(repo.dir, 'apps', 'empty');
    await mkdir(emptyDir, { recursive: true });
    await writeFile(path.join(emptyDir, 'README.md'), 'nothing to deploy\n');
    const revision = await commit(repo, { sign: fingerprint });
    const empty = await runCli(['argocd', 'generate'], { cwd: emptyDir, env: { ...process.env, SYNCGATE_URL: gate.url, ARGOCD_APP_REVISION: revision } });
    expect(empty.code).not.toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain('NO_MANIFESTS');
  });

  it('gives rendering and the gate one --timeout-ms between them, not one each', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    // a kustomize that takes 600 ms to render, first on PATH
    const bin = await mkdtemp(path.join(tmpdir(), 'syncgate-slow-kustomize-'));
    await writeFile(path.join(bin, 'kustomize'), `#!/bin/sh\nsleep 0.6\ncat deploy.yaml\n`, { mode: 0o755 });
    try {
      const started = Date.now();
      const slow = await generateAt({ 'deploy.yaml': deployment(false), 'kustomization.yaml': 'resources: [deploy.yaml]\n' }, true, { SYNCGATE_URL: `http://127.0.0.1:${port}`, SYNCGATE_TIMEOUT_MS: '1000', PATH: `${bin}:${process.env.PATH ?? ''}` });
      const took = Date.now() - started;
      expect(slow.code).not.toBe(0);
      expect(slow.stdout).toBe('');
      expect(slow.stderr).toContain('GATE_TIMEOUT');
      // the gate got what was left of the 1,000 ms after 600 ms of rendering, not 1,000 of its own
      const left = Number(/within (\d+) ms/.exec(slow.stderr)?.[1]);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(400);
      expect(took).toBeGreaterThanOrEqual(1_000);
    } finally {
      silent.close();
      await rm(path.join(repo.dir, 'apps', 'guestbook', 'kustomization.yaml'), { force: true });
    }
  });

  it('fails without output when the gate does not answer in time', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const slow = await generateAt({ 'deploy.yaml': deployment(false) }, true, { SYNCGATE_URL: `http://127.0.0.1:${port}`, SYNCGATE_TIMEOUT_MS: '500' });
      expect(slow.code).not.toBe(0);
      expect(slow.stdout).toBe('');
      expect(slow.stderr).toContain('GATE_TIMEOUT');
    } finally {
      silent.close();
    }
  });
});
