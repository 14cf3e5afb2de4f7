import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyFromSecret } from '../../src/kube/index.js';
import { readPrivateKeyFile, readPublicKeyFile } from '../../src/secrets/index.js';
import { ConnectProxy } from '../helpers/proxies.js';
import { FakeKube, deadPort } from '../helpers/fake-kube.js';
import { testCertificateAuthority } from '../helpers/tls.js';
import { runCli } from './run-cli.js';

describe('syncgate keys generate', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'syncgate-cli-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('--out DIR writes the private (0600) and public key files and prints their paths and the key id', async () => {
    const r = await runCli(['keys', 'generate', '--out', dir]);
    expect(r.code).toBe(0);
    const id = /key id: ([0-9a-f]{16})/.exec(r.stdout)![1]!;
    const priv = path.join(dir, `sealing-${id}.key`);
    const pub = path.join(dir, `sealing-${id}.pub`);
    expect(r.stdout).toContain(`private key: ${priv}`);
    expect(r.stdout).toContain(`public key: ${pub}`);
    expect(statSync(priv).mode & 0o777).toBe(0o600);
    expect((await readPrivateKeyFile(priv)).keyId).toBe(id);
    expect((await readPublicKeyFile(pub)).keyId).toBe(id);
  });

  it('--output json reports keyId, created and the paths', async () => {
    const r = await runCli(['keys', 'generate', '--out', dir, '--output', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ keyId: expect.stringMatching(/^[0-9a-f]{16}$/), created: expect.any(String) });
    expect(readdirSync(dir).sort()).toEqual([path.basename(out.privateKeyPath), path.basename(out.publicKeyPath)].sort());
  });

  it('--format k8s prints a key Secret labelled for the key source, which the key source can read', async () => {
    const r = await runCli(['keys', 'generate', '--format', 'k8s', '--namespace', 'syncgate']);
    expect(r.code).toBe(0);
    const secret = yaml.load(r.stdout) as Parameters<typeof keyFromSecret>[0] & { metadata: { labels: Record<string, string> } };
    expect(secret.metadata).toMatchObject({ namespace: 'syncgate', labels: { 'syncgate.dev/sealing-key': 'active' } });
    const key = keyFromSecret(secret);
    expect(secret.metadata.name).toBe(`syncgate-sealing-key-${key.keyId}`);
    expect(r.stderr).toMatch(/PRIVATE key/);
    const json = await runCli(['keys', 'generate', '--format', 'k8s', '--output', 'json']);
    expect(JSON.parse(json.stdout).kind).toBe('Secret');
  });

  it.each([
    [[], /give --out DIR, --format k8s or --apply/],
    [['--format', 'pem'], /--format must be files or k8s/],
    [['--format', 'k8s', '--out', '/tmp'], /cannot be combined/],
    [['--out', '/nonexistent/dir'], /OUTPUT_UNWRITABLE/],
    [['--out', '/tmp', '--output', 'xml'], /--output must be text or json/],
  ])('usage error %j exits 2', async (args, message) => {
    const r = await runCli(['keys', 'generate', ...(args as string[])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  describe('--apply through the Kubernetes API', () => {
    let fake: FakeKube;
    let kubeconfig: string;
    beforeEach(async () => {
      fake = await FakeKube.start({ token: 'cli-token' });
      kubeconfig = path.join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, fake.kubeconfig({ namespace: 'syncgate' }));
    });
    afterEach(() => fake.stop());

    it('creates the key Secret in the context namespace (KUBECONFIG), or --namespace', async () => {
      const r = await runCli(['keys', 'generate', '--apply', '--output', 'json'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.secret).toEqual({ namespace: 'syncgate', name: `syncgate-sealing-key-${out.keyId}` });
      const stored = fake.secrets.get(`syncgate/syncgate-sealing-key-${out.keyId}`)!;
      expect(keyFromSecret(stored as unknown as Parameters<typeof keyFromSecret>[0]).keyId).toBe(out.keyId);
      expect(fake.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['POST /api/v1/namespaces/syncgate/secrets']);

      const other = await runCli(['keys', 'generate', '--apply', '--kubeconfig', kubeconfig, '--namespace', 'gate-ns', '--out', dir]);
      expect(other.code).toBe(0);
      expect(other.stdout).toMatch(/created Secret gate-ns\/syncgate-sealing-key-[0-9a-f]{16}/);
      expect(readdirSync(dir).filter((f) => f.endsWith('.key'))).toHaveLength(1);
    });

    it('403 → exit 2 KUBE_FORBIDDEN; a down API server → KUBE_UNREACHABLE; no namespace → usage', async () => {
      fake.failNext(403, { method: 'POST' });
      const forbidden = await runCli(['keys', 'generate', '--apply', '--kubeconfig', kubeconfig]);
      expect(forbidden.code).toBe(2);
      expect(forbidden.stderr).toMatch(/^syncgate: KUBE_FORBIDDEN: create secrets syncgate\/syncgate-sealing-key-/);
      expect(forbidden.stderr).not.toMatch(/PRIVATE KEY|MC4CAQ/);

      const noNs = path.join(dir, 'nons');
      writeFileSync(noNs, fake.kubeconfig());
      const usage = await runCli(['keys', 'generate', '--apply', '--kubeconfig', noNs]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/--apply needs --namespace/);

      const dead = path.join(dir, 'dead');
      writeFileSync(dead, fake.kubeconfig({ namespace: 'x' }).replace(String(fake.port), String(await deadPort())));
      const down = await runCli(['keys', 'generate', '--apply', '--kubeconfig', dead]);
      expect(down.code).toBe(2);
      expect(down.stderr).toMatch(/KUBE_UNREACHABLE/);

      const missing = await runCli(['keys', 'generate', '--apply', '--kubeconfig', path.join(dir, 'nope')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/KUBE_CONFIG_INVALID/);
    });

    it('a credential plugin that never exits: exit 2 KUBE_TIMEOUT after --timeout-ms, and the command returns although the plugin still runs', async () => {
      const plugin = path.join(dir, 'hangs.sh');
      writeFileSync(plugin, '#!/bin/sh\nexec sleep 20\n', { mode: 0o755 });
      const hanging = path.join(dir, 'hanging');
      const withExec = fake.kubeconfig({ namespace: 'syncgate' }).replace(/user:\n(\s+)token: \S+/, `user:\n      exec:\n        apiVersion: client.authentication.k8s.io/v1\n        command: ${plugin}\n        interactiveMode: Never`);
      expect(withExec).toContain(plugin);
      writeFileSync(hanging, withExec);
      const t0 = Date.now();
      const r = await runCli(['keys', 'generate', '--apply', '--kubeconfig', hanging, '--timeout-ms', '300'], { timeoutMs: 15_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^syncgate: KUBE_TIMEOUT: create secrets syncgate\/syncgate-sealing-key-[0-9a-f]{16}: the credentials of the kubeconfig's current context \(an exec or auth plugin\) were not ready in time\n$/);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(fake.requests).toEqual([]);

      const zero = await runCli(['keys', 'generate', '--apply', '--kubeconfig', hanging, '--timeout-ms', '0']);
      expect(zero.code).toBe(2);
      expect(zero.stderr).toMatch(/--timeout-ms must be a positive integer, not 0/);
    });

    it('goes through the kubeconfig proxy-url (an HTTP CONNECT proxy), TLS to the API server inside the tunnel', async () => {
      const ca = await testCertificateAuthority();
      const tlsFake = await FakeKube.start({ token: 'cli-token', tls: await ca.issue('kube-apiserver', 'server') });
      const proxy = await ConnectProxy.start();
      try {
        const proxied = path.join(dir, 'proxied');
        writeFileSync(proxied, tlsFake.kubeconfig({ namespace: 'syncgate', ca: ca.cert, proxyUrl: proxy.url }));
        const r = await runCli(['keys', 'generate', '--apply', '--kubeconfig', proxied, '--output', 'json']);
        expect(r.code, r.stderr).toBe(0);
        expect(proxy.tunnels).toEqual([`127.0.0.1:${tlsFake.port}`]);
        expect(tlsFake.secrets.has(`syncgate/syncgate-sealing-key-${JSON.parse(r.stdout).keyId}`)).toBe(true);
      } finally {
        await proxy.stop();
        await tlsFake.stop();
      }
    });
  });
});
