import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KubeClient,
  KubeSealingKeySource,
  SEALING_KEY_DATA_KEY,
  SEALING_KEY_LABEL,
  keySecretManifest,
  type KeySourceReport,
} from '../../src/kube/index.js';
import { formatPrivateKey, generateSealingKey, sealValue, unsealSealedSecret, sealSecret, type SealingKey } from '../../src/secrets/index.js';
import { FakeKube } from '../helpers/fake-kube.js';

const NS = 'syncgate';

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function putKey(fake: FakeKube, key: SealingKey, name?: string) {
  const m = keySecretManifest(key, NS);
  return fake.put({ metadata: { ...(m.metadata as { name: string; labels: Record<string, string> }), namespace: NS, ...(name ? { name } : {}) }, data: m.data!, type: 'Opaque' });
}

describe('KubeSealingKeySource (list + watch)', () => {
  let fake: FakeKube;
  let source: KubeSealingKeySource;
  let reports: KeySourceReport[];
  const k1 = generateSealingKey(new Date('2025-01-01T00:00:00Z'));
  const k2 = generateSealingKey(new Date('2025-02-01T00:00:00Z'));
  const k3 = generateSealingKey(new Date('2025-03-01T00:00:00Z'));

  beforeEach(async () => {
    fake = await FakeKube.start({ token: 'tok' });
    reports = [];
  });
  afterEach(async () => {
    await source?.stop();
    await fake.stop();
  });

  function makeSource(extra: Partial<ConstructorParameters<typeof KubeSealingKeySource>[0]> = {}) {
    source = new KubeSealingKeySource({
      client: KubeClient.fromOptions({ server: { url: fake.url, token: 'tok' }, requestTimeoutMs: 2000 }),
      namespace: NS,
      onReport: (r) => { reports.push(r); if (process.env.DEBUG_KS) console.log(Date.now() % 100000, JSON.stringify(r)); },
      backoffMinMs: 20,
      backoffMaxMs: 100,
      ...extra,
    });
    return source;
  }

  it('loads the labelled key Secrets of its namespace only, then picks up a new key from the watch without restart', async () => {
    putKey(fake, k1);
    fake.put({ metadata: { name: 'unrelated', namespace: NS }, data: { x: 'eA==' } });
    fake.put({ metadata: { name: 'elsewhere', namespace: 'other', labels: { [SEALING_KEY_LABEL]: 'active' } }, data: keySecretManifest(k3).data! });
    await makeSource().start();
    expect(source.status().synced).toBe(true);
    expect(source.keyring.keys().map((k) => k.keyId)).toEqual([k1.keyId]);
    const listReq = fake.requests.find((r) => r.method === 'GET' && r.query.watch === undefined)!;
    expect(listReq.path).toBe(`/api/v1/namespaces/${NS}/secrets`);
    expect(listReq.query.labelSelector).toBe('syncgate.dev/sealing-key=active');
    await until(() => fake.openWatches === 1, 'the watch');
    const watchReq = fake.requests.find((r) => r.query.watch === 'true')!;
    // list, then watch from exactly what the list saw (nothing changed in between)
    expect(watchReq.query.resourceVersion).toBe(fake.resourceVersion);

    // A value sealed to the new key opens as soon as the watch delivers it.
    const sealed = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'app' }, stringData: { p: 'watch-plaintext' } }, k2.public);
    expect(() => unsealSealedSecret(sealed, source.keyring)).toThrow(/unknown|key/i);
    putKey(fake, k2);
    await until(() => source.keyring.get(k2.keyId) !== undefined, 'k2 from the watch');
    expect(source.keyring.active().keyId).toBe(k2.keyId);
    expect(Buffer.from(unsealSealedSecret(sealed, source.keyring).data.p!, 'base64').toString()).toBe('watch-plaintext');
    expect(reports).toContainEqual({ event: 'key-added', keyId: k2.keyId, from: `Secret ${NS}/syncgate-sealing-key-${k2.keyId}` });
  });

  it('removes a key when its Secret is deleted or relabelled (not active), and keeps the others', async () => {
    putKey(fake, k1);
    putKey(fake, k2);
    await makeSource().start();
    await until(() => fake.openWatches === 1, 'the watch');
    expect(source.keyring.size).toBe(2);
    fake.remove(NS, `syncgate-sealing-key-${k2.keyId}`);
    await until(() => source.keyring.get(k2.keyId) === undefined, 'k2 removed');
    expect(source.keyring.get(k1.keyId)).toBeDefined();

    const s1 = fake.secrets.get(`${NS}/syncgate-sealing-key-${k1.keyId}`)!;
    fake.put({ metadata: { ...s1.metadata, labels: { [SEALING_KEY_LABEL]: 'compromised' } }, data: s1.data! });
    await until(() => source.keyring.size === 0, 'k1 removed after relabel');
    expect(reports.filter((r) => r.event === 'key-removed').map((r) => (r as { keyId: string }).keyId)).toEqual([k2.keyId, k1.keyId]);
  });

  it('reports a malformed key Secret by name without key bytes and keeps the last good key', async () => {
    putKey(fake, k1);
    fake.put({ metadata: { name: 'broken', namespace: NS, labels: { [SEALING_KEY_LABEL]: 'active' } }, data: { 'wrong.key': 'eA==' } });
    await makeSource().start();
    expect(source.keyring.size).toBe(1);
    const invalid = reports.find((r) => r.event === 'key-invalid') as Extract<KeySourceReport, { event: 'key-invalid' }>;
    expect(invalid).toMatchObject({ from: `Secret ${NS}/broken`, code: 'KUBE_KEY_SECRET_INVALID', keptPrevious: false });
    expect(source.status().invalid.map((i) => i.from)).toEqual([`Secret ${NS}/broken`]);

    // The good key's Secret is edited into garbage (not the PEM of a key): its key stays.
    await until(() => fake.openWatches === 1, 'the watch');
    const name = `syncgate-sealing-key-${k1.keyId}`;
    const pem = formatPrivateKey(k1);
    const garbled = pem.replace(/MC4CAQAw[^\n]*/, 'MC4CAQAwBQYDK2VuBCIEI');
    fake.put({ metadata: { name, namespace: NS, labels: { [SEALING_KEY_LABEL]: 'active' } }, data: { [SEALING_KEY_DATA_KEY]: Buffer.from(garbled).toString('base64') } });
    await until(() => reports.some((r) => r.event === 'key-invalid' && r.from.endsWith(name)), 'the invalid report');
    expect(source.keyring.get(k1.keyId)).toBeDefined();
    const again = reports.filter((r) => r.event === 'key-invalid').at(-1) as Extract<KeySourceReport, { event: 'key-invalid' }>;
    expect(again.keptPrevious).toBe(true);
    expect(again.code).toMatch(/^SEAL_KEY_/);
    // No key bytes in any report.
    const rawB64 = pem.split('\n').find((l) => l.startsWith('MC4'))!;
    expect(JSON.stringify(reports)).not.toContain(rawB64);
    expect(JSON.stringify(source.status())).not.toContain(rawB64);
  });

  it('after the API server comes back, lists again: keys deleted while unwatched go, new ones come', async () => {
    putKey(fake, k1);
    putKey(fake, k2);
    await makeSource().start();
    await until(() => fake.openWatches === 1, 'the watch');
    const lists = () => fake.requests.filter((r) => r.method === 'GET' && r.query.watch === undefined).length;
    expect(lists()).toBe(1);
    // Changes happen, then history is compacted and the watch drops: the resumed watch is too old.
    await fake.down();
    await fake.up();
    fake.remove(NS, `syncgate-sealing-key-${k1.keyId}`);
    putKey(fake, k3);
    fake.compact();
    await until(() => source.keyring.get(k3.keyId) !== undefined && source.keyring.get(k1.keyId) === undefined, 're-listed state', 8000);
    expect(source.keyring.keys().map((k) => k.keyId)).toEqual([k3.keyId, k2.keyId]);
    expect(lists()).toBeGreaterThanOrEqual(2);
  });

  it('a 410 ERROR event inside the watch triggers an immediate re-list', async () => {
    putKey(fake, k1);
    await makeSource().start();
    await until(() => fake.openWatches === 1, 'the watch');
    // The watch ends normally; before it resumes, a key arrives and history is compacted, so the
    // resumed watch (from the last resourceVersion seen) is told 410 Expired.
    fake.closeWatches();
    putKey(fake, k2);
    fake.compact();
    await until(() => reports.some((r) => r.event === 'error' && r.code === 'KUBE_GONE'), 'the 410');
    await until(() => fake.openWatches === 1, 'a new watch');
    expect(fake.requests.filter((r) => r.method === 'GET' && r.query.watch === undefined).length).toBe(2);
    expect(source.keyring.size).toBe(2);
  });

  it('retries with backoff while the API server is down or refuses (403, 500), keeping the last good set', async () => {
    putKey(fake, k1);
    await makeSource().start();
    await until(() => fake.openWatches === 1, 'the watch');
    await fake.down();
    await until(() => reports.filter((r) => r.event === 'error' && r.code === 'KUBE_UNREACHABLE').length >= 2, 'unreachable retries');
    expect(source.keyring.get(k1.keyId)).toBeDefined();
    expect(source.status().lastError?.code).toBe('KUBE_UNREACHABLE');
    const retry = reports.find((r) => r.event === 'error') as { retryInMs: number };
    expect(retry.retryInMs).toBeGreaterThan(0);

    fake.failNext(403, { method: 'GET', watch: false });
    fake.failNext(500, { method: 'GET', watch: false });
    await fake.up();
    putKey(fake, k2);
    await until(() => source.keyring.get(k2.keyId) !== undefined, 'recovery', 8000);
    const codes = reports.filter((r) => r.event === 'error').map((r) => (r as { code: string }).code);
    expect(codes).toContain('KUBE_FORBIDDEN');
    expect(codes).toContain('KUBE_SERVER_ERROR');
    expect(source.status().lastError).toBeUndefined();
    expect(source.keyring.get(k1.keyId)).toBeDefined();
  });

  it('a watch refused with 403 is reported and retried after a fresh list', async () => {
    putKey(fake, k1);
    fake.failNext(403, { watch: true });
    await makeSource().start();
    await until(() => reports.some((r) => r.event === 'error' && r.code === 'KUBE_FORBIDDEN'), 'the 403');
    await until(() => fake.openWatches === 1, 'the watch after the retry');
    const lists = fake.requests.filter((r) => r.method === 'GET' && r.query.watch === undefined).length;
    expect(lists).toBe(2);
    putKey(fake, k2);
    await until(() => source.keyring.size === 2, 'k2 through the new watch');
  });

  it('a key Secret fixed after being malformed loads and leaves the invalid list', async () => {
    fake.put({ metadata: { name: 'later', namespace: NS, labels: { [SEALING_KEY_LABEL]: 'active' } }, data: { [SEALING_KEY_DATA_KEY]: Buffer.from('not a key').toString('base64') } });
    await makeSource().start();
    expect(source.status().invalid.map((i) => i.code)).toEqual(['SEAL_KEY_INVALID']);
    await until(() => fake.openWatches === 1, 'the watch');
    fake.put({ metadata: { name: 'later', namespace: NS, labels: { [SEALING_KEY_LABEL]: 'active' } }, data: keySecretManifest(k1).data! });
    await until(() => source.keyring.size === 1, 'the fixed key');
    expect(source.status().invalid).toEqual([]);
    expect(source.status().keys).toEqual([{ keyId: k1.keyId, created: k1.created!.toISOString(), from: [`Secret ${NS}/later`] }]);
  });

  it('start() waits for the first successful list when the server starts out refusing', async () => {
    putKey(fake, k1);
    fake.failNext(503, { method: 'GET' });
    fake.failNext(401, { method: 'GET' });
    await makeSource().start();
    expect(source.keyring.size).toBe(1);
    expect(reports.filter((r) => r.event === 'error').map((r) => (r as { code: string }).code)).toEqual(['KUBE_SERVER_ERROR', 'KUBE_UNAUTHORIZED']);
  });

  it('stop() ends the watch and a pending start() rejects', async () => {
    await fake.down();
    const pending = makeSource().start();
    await until(() => reports.length > 0, 'a failed attempt');
    await source.stop();
    await expect(pending).rejects.toThrow(/stopped before the first successful list/);
    await fake.up();
  });

  it('ignores bookmarks and keeps the watch open across normal server-side closes', async () => {
    putKey(fake, k1);
    await makeSource().start();
    await until(() => fake.openWatches === 1, 'the watch');
    fake.bookmark();
    fake.closeWatches();
    await until(() => fake.openWatches === 1, 'the resumed watch');
    putKey(fake, k2);
    await until(() => source.keyring.size === 2, 'k2');
    expect(fake.requests.filter((r) => r.method === 'GET' && r.query.watch === undefined).length).toBe(1);
  });

  it('a key Secret modified without changing its key causes no churn; one swapped to another key swaps it', async () => {
    putKey(fake, k1);
    await makeSource().start();
    await until(() => fake.openWatches === 1, 'the watch');
    const before = reports.length;
    const name = `syncgate-sealing-key-${k1.keyId}`;
    const s = fake.secrets.get(`${NS}/${name}`)!;
    fake.put({ metadata: { ...s.metadata, annotations: { note: 'edited' } }, data: s.data! }); // MODIFIED, same key
    putKey(fake, k3, name); // then the same Secret now holds k3
    await until(() => source.keyring.get(k3.keyId) !== undefined, 'k3');
    expect(source.keyring.get(k1.keyId)).toBeUndefined();
    expect(reports.slice(before).filter((r) => r.event === 'key-added' || r.event === 'key-removed').map((r) => r.event)).toEqual(['key-added', 'key-removed']);
    const env = sealValue('v', source.keyring.active(), { scope: 'cluster-wide', dataKey: 'k' });
    expect(env.length).toBeGreaterThan(100);
  });
});
