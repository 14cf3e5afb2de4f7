import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient, KubeSealingKeySource, keyFromSecret, renewSealingKeyIfDue, startKeyRenewal, type RenewalResult } from '../../src/kube/index.js';
import { SealingKeyring, generateSealingKey } from '../../src/secrets/index.js';
import { FakeKube } from '../helpers/fake-kube.js';

const NS = 'syncgate';
const DAY = 86_400_000;

describe('automatic key renewal', () => {
  let fake: FakeKube;
  let client: KubeClient;
  beforeEach(async () => {
    fake = await FakeKube.start();
    client = KubeClient.fromOptions({ server: { url: fake.url }, requestTimeoutMs: 2000 });
  });
  afterEach(() => fake.stop());

  it('does nothing while the newest key is younger than the period', async () => {
    const keyring = new SealingKeyring([generateSealingKey(new Date('2025-01-10T00:00:00Z'))]);
    const r = await renewSealingKeyIfDue({ client, namespace: NS, keyring, periodMs: 30 * DAY, now: () => new Date('2025-02-01T00:00:00Z') });
    expect(r.renewed).toBe(false);
    expect(fake.requests).toEqual([]);
  });

  it('creates a new key Secret (POST) when due; the new key seals, the old one stays', async () => {
    const old = generateSealingKey(new Date('2025-01-01T00:00:00Z'));
    const keyring = new SealingKeyring([old]);
    const now = new Date('2025-02-01T00:00:00Z');
    const r = await renewSealingKeyIfDue({ client, namespace: NS, keyring, periodMs: 30 * DAY, now: () => now });
    expect(r.renewed).toBe(true);
    const { keyId, secretName } = r as Extract<RenewalResult, { renewed: true }>;
    expect(keyring.active().keyId).toBe(keyId);
    expect(keyring.get(old.keyId)).toBeDefined();
    expect(fake.requests.map((q) => `${q.method} ${q.path}`)).toEqual([`POST /api/v1/namespaces/${NS}/secrets`]);
    const stored = fake.secrets.get(`${NS}/${secretName}`)!;
    expect(stored.metadata.labels).toEqual({ 'syncgate.dev/sealing-key': 'active' });
    expect(stored.immutable).toBe(true);
    const key = keyFromSecret(stored as unknown as Parameters<typeof keyFromSecret>[0]);
    expect(key.keyId).toBe(keyId);
    expect(key.created?.toISOString()).toBe(now.toISOString());
  });

  it('with createIfNone false an empty keyring is left alone; by default a first key is made', async () => {
    const keyring = new SealingKeyring();
    expect((await renewSealingKeyIfDue({ client, namespace: NS, keyring, periodMs: DAY, createIfNone: false })).renewed).toBe(false);
    expect((await renewSealingKeyIfDue({ client, namespace: NS, keyring, periodMs: DAY })).renewed).toBe(true);
    expect(keyring.size).toBe(1);
  });

  it('a refused create (403) fails typed and adds no key', async () => {
    const keyring = new SealingKeyring([generateSealingKey(new Date('2020-01-01T00:00:00Z'))]);
    fake.failNext(403, { method: 'POST' });
    await expect(renewSealingKeyIfDue({ client, namespace: NS, keyring, periodMs: DAY })).rejects.toMatchObject({ code: 'KUBE_FORBIDDEN' });
    expect(keyring.size).toBe(1);
  });

  it('the schedule renews only once the key source has synced, and the watch sees the new Secret', async () => {
    const old = generateSealingKey(new Date('2020-01-01T00:00:00Z'));
    const source = new KubeSealingKeySource({ client, namespace: NS, backoffMinMs: 20 });
    source.keyring.add(old); // e.g. also loaded from a file
    let ready = false;
    const results: RenewalResult[] = [];
    const schedule = startKeyRenewal({ client, namespace: NS, keyring: source.keyring, periodMs: 30 * DAY, checkIntervalMs: 30, ready: () => ready, onResult: (r) => results.push(r) });
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(fake.requests.filter((q) => q.method === 'POST')).toEqual([]);
      await source.start();
      ready = source.status().synced;
      const end = Date.now() + 5000;
      while (!results.some((r) => r.renewed) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(results.filter((r) => r.renewed)).toHaveLength(1);
      expect(fake.requests.filter((q) => q.method === 'POST')).toHaveLength(1);
      expect(source.keyring.active().keyId).not.toBe(old.keyId);
    } finally {
      schedule.stop();
      await source.stop();
    }
  });
});
