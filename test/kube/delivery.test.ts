import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient, applySecret, deleteSecret, listDeliveredSecrets, keySecretManifest, type SecretOwner } from '../../src/kube/index.js';
import { generateSealingKey, sealSecret, SealingKeyring, unsealSealedSecret, type Secret } from '../../src/secrets/index.js';
import { FakeKube, deadPort, rejectedWithKubeError as rejected } from '../helpers/fake-kube.js';

const PLAIN = 'delivery-plaintext-7d1e';
const owner: SecretOwner = { apiVersion: 'syncgate.dev/v1alpha1', kind: 'SealedSecret', name: 'db', namespace: 'payments' };

function unsealed(values: Record<string, string>): Secret {
  const key = generateSealingKey();
  const sealed = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'payments', labels: { app: 'pay' } }, stringData: values }, key.public);
  return unsealSealedSecret(sealed, new SealingKeyring([key]));
}

describe('delivering unsealed Secrets (server-side apply)', () => {
  let fake: FakeKube;
  let client: KubeClient;
  beforeEach(async () => {
    fake = await FakeKube.start();
    client = KubeClient.fromOptions({ server: { url: fake.url }, requestTimeoutMs: 2000 });
  });
  afterEach(() => fake.stop());

  it('applies the Secret labelled and annotated as syncgate\'s, and reports names and keys only', async () => {
    const result = await applySecret(client, unsealed({ password: PLAIN, user: 'app' }), { ...owner, uid: '11111111-2222-3333-4444-555555555555' });
    expect(result).toMatchObject({ namespace: 'payments', name: 'db', keys: ['password', 'user'] });
    expect(JSON.stringify(result)).not.toContain(Buffer.from(PLAIN).toString('base64'));
    const stored = fake.secrets.get('payments/db')!;
    expect(Buffer.from(stored.data!.password!, 'base64').toString()).toBe(PLAIN);
    expect(stored.metadata.labels).toEqual({ app: 'pay', 'app.kubernetes.io/managed-by': 'syncgate', 'syncgate.dev/unsealed': 'true' });
    expect(stored.metadata.annotations).toEqual({ 'syncgate.dev/sealed-secret': 'payments/db' });
    expect(stored.metadata.ownerReferences).toEqual([{ apiVersion: 'syncgate.dev/v1alpha1', kind: 'SealedSecret', name: 'db', uid: '11111111-2222-3333-4444-555555555555', controller: true, blockOwnerDeletion: false }]);
    const patch = fake.requests.find((r) => r.method === 'PATCH')!;
    expect(patch).toMatchObject({ path: '/api/v1/namespaces/payments/secrets/db', contentType: 'application/apply-patch+yaml', query: { fieldManager: 'syncgate', force: 'true' } });
  });

  it('re-applying drops a data key that left the SealedSecret (apply semantics), and updates values', async () => {
    await applySecret(client, unsealed({ a: '1', b: '2' }), owner);
    await applySecret(client, unsealed({ a: '3' }), owner);
    expect(fake.secrets.get('payments/db')!.data).toEqual({ a: Buffer.from('3').toString('base64') });
  });

  it('force takes over fields another manager set on a Secret syncgate owns', async () => {
    await applySecret(client, unsealed({ a: '1' }), owner);
    const s = fake.secrets.get('payments/db')!;
    fake.put({ metadata: { ...s.metadata }, data: { a: Buffer.from('hand-edited').toString('base64') } }, 'kubectl-edit');
    await applySecret(client, unsealed({ a: '1' }), owner);
    expect(fake.secrets.get('payments/db')!.data).toEqual({ a: Buffer.from('1').toString('base64') });
  });

  it('refuses to overwrite a Secret syncgate did not write (KUBE_NOT_OWNED) unless adopting', async () => {
    fake.put({ metadata: { name: 'db', namespace: 'payments' }, data: { other: 'eA==' } });
    const err = await rejected(applySecret(client, unsealed({ a: PLAIN }), owner));
    expect(err.code).toBe('KUBE_NOT_OWNED');
    expect(fake.requests.some((r) => r.method === 'PATCH')).toBe(false);
    await applySecret(client, unsealed({ a: PLAIN }), owner, { adopt: true });
    expect(fake.secrets.get('payments/db')!.metadata.labels?.['syncgate.dev/unsealed']).toBe('true');
  });

  it('refuses a Secret that does not land at its SealedSecret\'s place', async () => {
    const err = await rejected(applySecret(client, unsealed({ a: '1' }), { ...owner, name: 'other' }));
    expect(err.code).toBe('KUBE_INVALID');
    expect(fake.requests).toEqual([]);
  });

  it.each([
    [403, 'KUBE_FORBIDDEN'],
    [409, 'KUBE_CONFLICT'],
    [500, 'KUBE_SERVER_ERROR'],
  ])('an apply answered %i fails with %s and no value in the error', async (statusCode, code) => {
    fake.failNext(statusCode, { method: 'PATCH' });
    const err = await rejected(applySecret(client, unsealed({ password: PLAIN }), owner));
    expect(err.code).toBe(code);
    const text = `${err.message} ${JSON.stringify(err)}`;
    expect(text).not.toContain(PLAIN);
    expect(text).not.toContain(Buffer.from(PLAIN).toString('base64'));
    expect(fake.secrets.has('payments/db')).toBe(false);
  });

  it('an immutable Secret whose values change is refused by the server (KUBE_INVALID)', async () => {
    const s = unsealed({ a: '1' });
    s.immutable = true;
    await applySecret(client, s, owner);
    const changed = unsealed({ a: '2' });
    changed.immutable = true;
    expect((await rejected(applySecret(client, changed, owner))).code).toBe('KUBE_INVALID');
  });

  it('an API server that is down: KUBE_UNREACHABLE', async () => {
    const down = KubeClient.fromOptions({ server: { url: `http://127.0.0.1:${await deadPort()}` } });
    expect((await rejected(applySecret(down, unsealed({ a: PLAIN }), owner))).code).toBe('KUBE_UNREACHABLE');
  });

  it('deletes only its own Secret for the right SealedSecret, guarded by uid; false when gone', async () => {
    await applySecret(client, unsealed({ a: '1' }), owner);
    expect((await rejected(deleteSecret(client, 'payments', 'db', { namespace: 'payments', name: 'else' }))).code).toBe('KUBE_NOT_OWNED');
    expect(await deleteSecret(client, 'payments', 'db', owner)).toBe(true);
    expect(fake.secrets.has('payments/db')).toBe(false);
    const del = fake.requests.find((r) => r.method === 'DELETE')!;
    expect(JSON.parse(del.body).preconditions.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await deleteSecret(client, 'payments', 'db', owner)).toBe(false);
  });

  it('never deletes a Secret it did not write, nor a sealing key Secret', async () => {
    fake.put({ metadata: { name: 'hand', namespace: 'payments' }, data: { a: 'eA==' } });
    expect((await rejected(deleteSecret(client, 'payments', 'hand'))).code).toBe('KUBE_NOT_OWNED');
    const key = keySecretManifest(generateSealingKey(), 'payments');
    fake.put({ metadata: { name: key.metadata!.name!, namespace: 'payments', labels: { ...key.metadata!.labels, 'syncgate.dev/unsealed': 'true' } }, data: key.data! });
    expect((await rejected(deleteSecret(client, 'payments', key.metadata!.name!))).code).toBe('KUBE_NOT_OWNED');
    expect(fake.secrets.size).toBe(2);
  });

  it('a Secret replaced between read and delete is not deleted (precondition → KUBE_CONFLICT)', async () => {
    await applySecret(client, unsealed({ a: '1' }), owner);
    // The next GET sees the object, then someone re-creates it before the DELETE arrives.
    const realGet = client.getSecret.bind(client);
    client.getSecret = async (ns, name) => {
      const s = await realGet(ns, name);
      const cur = fake.secrets.get('payments/db')!;
      fake.remove('payments', 'db');
      fake.put({ metadata: { name: 'db', namespace: 'payments', labels: cur.metadata.labels!, annotations: cur.metadata.annotations! }, data: cur.data! });
      return s;
    };
    expect((await rejected(deleteSecret(client, 'payments', 'db', owner))).code).toBe('KUBE_CONFLICT');
    expect(fake.secrets.has('payments/db')).toBe(true);
  });

  it('lists the Secrets it delivered in a namespace with their SealedSecret', async () => {
    await applySecret(client, unsealed({ a: '1' }), owner);
    fake.put({ metadata: { name: 'hand', namespace: 'payments' }, data: { a: 'eA==' } });
    expect(await listDeliveredSecrets(client, 'payments')).toEqual([{ namespace: 'payments', name: 'db', sealedSecret: 'payments/db' }]);
    expect(fake.requests.at(-1)!.query.labelSelector).toBe('syncgate.dev/unsealed=true');
  });
});
