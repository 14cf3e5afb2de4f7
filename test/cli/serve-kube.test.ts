/**
 * The shipped bundle (dist/bundle/) in the mode the Helm chart deploys: sealing keys read from
 * Kubernetes Secrets and unsealed Secrets delivered through the API server
 * (test/helpers/fake-kube.ts). The bundle leaves out the parts of @kubernetes/client-node that
 * syncgate does not use (rolldown.config.mjs), so this drives the client calls a serving gate
 * makes — list, watch, get, server-side apply — through the bundled client. (Create and delete
 * come with key renewal and deletions; `syncgate keys generate --apply`, test/cli/keys.test.ts,
 * creates through the same bundled client.)
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from '../../src/config/defaults.js';
import { keySecretManifest } from '../../src/kube/key-secrets.js';
import { generateSealingKey, sealSecret, type SealingKey } from '../../src/secrets/index.js';
import { FakeKube } from '../helpers/fake-kube.js';
import { startServe, waitReady } from './run-cli.js';

const NS = 'syncgate';
const PLAINTEXT = 'bundled-kube-plaintext-41c7';

describe('syncgate serve (the bundle) with sealing keys from Kubernetes and apiserver delivery', () => {
  let dir: string;
  let fake: FakeKube;
  let serve: Awaited<ReturnType<typeof startServe>>;
  const example = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8')) as { revision: string; commit: string };

  const putKey = (key: SealingKey) => {
    const secret = keySecretManifest(key, NS);
    fake.put({ metadata: secret.metadata as { name: string; namespace: string; labels: Record<string, string> }, data: secret.data!, type: 'Opaque' });
  };
  const decide = async (key: SealingKey, name: string) => {
    const manifests = [sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'shop' }, stringData: { password: `${PLAINTEXT}-${name}` } }, key, { scope: 'strict' })];
    const body = JSON.stringify({ ...example, application: { name: 'shop', project: 'default', destination: { namespace: 'shop' } }, manifests });
    const res = await fetch(`${serve.url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, json: (await res.json()) as { allowed: boolean; reasons?: Array<{ code: string }> } };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'syncgate-serve-kube-'));
    fake = await FakeKube.start({ token: 'bundle-token' });
    await writeFile(path.join(dir, 'kubeconfig'), fake.kubeconfig({ token: 'bundle-token' }));
    const config = {
      listen: '127.0.0.1:0',
      trust: { ...EMBEDDED_DEFAULTS.trust, keyrings: [path.join(PACKAGE_ROOT, 'keys.example', 'dev-signing-key.pub.asc')] },
      policies: { paths: [path.join(PACKAGE_ROOT, 'policies')] },
      sealing: { delivery: 'apiserver', kubernetes: { kubeconfig: path.join(dir, 'kubeconfig'), namespace: NS } },
      audit: { path: path.join(dir, 'audit.jsonl') },
    };
    await writeFile(path.join(dir, 'config.yaml'), yaml.dump(config));
  });
  afterAll(async () => {
    if (serve) {
      serve.child.kill('SIGTERM');
      if (serve.child.exitCode === null) await once(serve.child, 'exit');
    }
    await fake?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the key Secret, unseals, and writes the Secret by server-side apply; a key added later arrives by the watch', async () => {
    const first = generateSealingKey();
    putKey(first);
    serve = await startServe(['--config', path.join(dir, 'config.yaml')]);
    await waitReady(serve.url);

    const allowed = await decide(first, 'db');
    expect(allowed.status, JSON.stringify(allowed.json.reasons)).toBe(200);
    const written = fake.secrets.get('shop/db')!;
    expect(Buffer.from(written.data!.password!, 'base64').toString()).toBe(`${PLAINTEXT}-db`);

    const second = generateSealingKey();
    expect((await decide(second, 'cache')).json.reasons?.[0]?.code).toBe('SEAL_UNKNOWN_KEY_ID');
    // The second key must come by the open watch, not by a list made again after a failed one.
    const lists = () => fake.requests.filter((r) => r.method === 'GET' && r.path === `/api/v1/namespaces/${NS}/secrets` && r.query.watch !== 'true').length;
    expect(fake.openWatches).toBe(1);
    expect(lists()).toBe(1);
    putKey(second);
    const until = Date.now() + 10_000;
    let later = await decide(second, 'cache');
    while (later.status !== 200 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      later = await decide(second, 'cache');
    }
    expect(later.status, JSON.stringify(later.json.reasons)).toBe(200);
    expect(lists()).toBe(1);
    expect(Buffer.from(fake.secrets.get('shop/cache')!.data!.password!, 'base64').toString()).toBe(`${PLAINTEXT}-cache`);
    expect(serve.stderr()).not.toContain(PLAINTEXT);
  });
});
