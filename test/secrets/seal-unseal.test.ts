import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  MAX_VALUE_BYTES,
  SCOPES,
  SealingKeyring,
  checkSealedSecret,
  generateSealingKey,
  sealSecret,
  sealValue,
  unsealSealedSecret,
  type SealedSecret,
} from '../../src/secrets/index.js';
import { b64, fromB64, secretManifest, thrown } from './helpers.js';

const key = generateSealingKey(new Date('2025-01-01T00:00:00Z'));
const ring = new SealingKeyring([key]);

describe('round trips', () => {
  test.each(SCOPES)('scope %s: every value comes back, metadata goes to the template', (scope) => {
    const manifest = secretManifest(
      { type: 'kubernetes.io/basic-auth', immutable: true },
      { labels: { app: 'pay' }, annotations: { team: 'core', 'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"password":"hunter2-plaintext"}}' } },
    );
    const sealed = sealSecret(manifest, key, { scope });
    expect(sealed.apiVersion).toBe('syncgate.dev/v1alpha1');
    expect(sealed.kind).toBe('SealedSecret');
    expect(sealed.metadata).toEqual({ name: 'db-credentials', namespace: 'payments' });
    expect(sealed.spec.scope).toBe(scope);
    expect(Object.keys(sealed.spec.encryptedData)).toEqual(['password', 'username']);
    expect(sealed.spec.template).toEqual({ type: 'kubernetes.io/basic-auth', immutable: true, metadata: { labels: { app: 'pay' }, annotations: { team: 'core' } } });
    expect(JSON.stringify(sealed)).not.toContain('hunter2');

    const secret = unsealSealedSecret(sealed, ring);
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db-credentials', namespace: 'payments', labels: { app: 'pay' }, annotations: { team: 'core' } },
      type: 'kubernetes.io/basic-auth',
      immutable: true,
      data: { password: b64('hunter2-plaintext'), username: b64('app') },
    });
  });

  test('data (base64) and stringData together; stringData wins for the same key', () => {
    const sealed = sealSecret(secretManifest({ data: { a: b64('from-data'), b: b64('only-data') }, stringData: { a: 'from-stringData' } }), key);
    const out = unsealSealedSecret(sealed, ring);
    expect(fromB64(out.data.a).toString()).toBe('from-stringData');
    expect(fromB64(out.data.b).toString()).toBe('only-data');
  });

  test('binary data survives byte for byte', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const out = unsealSealedSecret(sealSecret(secretManifest({ data: { 'ca.der': bytes.toString('base64') }, stringData: undefined }), key), ring);
    expect(fromB64(out.data['ca.der'])).toEqual(bytes);
  });

  test('an empty value is sealed and comes back empty', () => {
    const out = unsealSealedSecret(sealSecret(secretManifest({ data: { empty: '' }, stringData: { alsoEmpty: '' } }), key), ring);
    expect(out.data).toEqual({ empty: '', alsoEmpty: '' });
  });

  test('a value of exactly 1 MiB round-trips', () => {
    const big = Buffer.alloc(MAX_VALUE_BYTES, 7);
    const out = unsealSealedSecret(sealSecret(secretManifest({ data: { big: big.toString('base64') }, stringData: undefined }), key), ring);
    expect(fromB64(out.data.big).equals(big)).toBe(true);
  });

  test('a manifest without a namespace is unsealed in the caller-given namespace', () => {
    const sealed = sealSecret(secretManifest(), key);
    const withoutNs = structuredClone(sealed) as SealedSecret;
    delete withoutNs.metadata.namespace;
    expect(unsealSealedSecret(withoutNs, ring, { namespace: 'payments' }).metadata.namespace).toBe('payments');
    expect(thrown(() => unsealSealedSecret(withoutNs, ring)).code).toBe('SEAL_INVALID_SEALED_SECRET');
    expect(thrown(() => unsealSealedSecret(withoutNs, ring, { namespace: 'other' })).code).toBe('SEAL_SCOPE_MISMATCH');
  });

  test('cluster-wide needs no namespace; the sealing namespace can come from options', () => {
    const noNs = secretManifest({}, { namespace: undefined });
    const sealed = sealSecret(noNs, key, { scope: 'cluster-wide' });
    expect(sealed.metadata.namespace).toBeUndefined();
    expect(fromB64(unsealSealedSecret(sealed, ring).data.username).toString()).toBe('app');
    const strict = sealSecret(noNs, key, { namespace: 'payments' });
    expect(strict.metadata.namespace).toBe('payments');
    expect(thrown(() => sealSecret(noNs, key)).code).toBe('SEAL_INVALID_SECRET');
  });

  test('sealValue (raw mode) yields a value that opens in a matching object', () => {
    const sealed = sealSecret(secretManifest({ stringData: { username: 'app' } }), key, { scope: 'namespace-wide' });
    sealed.spec.encryptedData.token = sealValue('raw-token', key, { scope: 'namespace-wide', namespace: 'payments', dataKey: 'token' });
    expect(fromB64(unsealSealedSecret(sealed, ring).data.token).toString()).toBe('raw-token');
    expect(thrown(() => sealValue('x', key, { scope: 'strict', namespace: 'payments', dataKey: 'k' })).message).toMatch(/name is required/);
    expect(thrown(() => sealValue('x', key, { scope: 'namespace-wide', dataKey: 'k' })).message).toMatch(/namespace is required/);
    expect(thrown(() => sealValue('x', key, { scope: 'cluster-wide', dataKey: 'bad/key' })).code).toBe('SEAL_INVALID_SECRET');
  });

  test('sealing is randomised: the same value seals differently each time', () => {
    const a = sealValue('same', key, { scope: 'cluster-wide', dataKey: 'k' });
    const b = sealValue('same', key, { scope: 'cluster-wide', dataKey: 'k' });
    expect(a).not.toBe(b);
  });

  test('checkSealedSecret reports codes per data key and nothing else', () => {
    const sealed = sealSecret(secretManifest(), key);
    expect(checkSealedSecret(sealed, ring)).toEqual({ ok: true, failures: [] });
    sealed.spec.encryptedData.username = sealed.spec.encryptedData.password!;
    expect(checkSealedSecret(sealed, ring)).toEqual({ ok: false, failures: [{ dataKey: 'username', code: 'SEAL_SCOPE_MISMATCH' }] });
  });
});

describe('input validation', () => {
  test.each([
    ['a ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: {} }],
    ['a wrong apiVersion', { apiVersion: 'v2', kind: 'Secret', metadata: { name: 'x' } }],
    ['an array', [1, 2]],
    ['a string', 'apiVersion: v1'],
    ['null', null],
  ])('refuses %s as not a Secret', (_what, input) => {
    const err = thrown(() => sealSecret(input, key));
    expect(err).toBeInstanceOf(InputError);
    expect(err.code).toBe('SEAL_NOT_A_SECRET');
  });

  test.each([
    ['data.pw', { data: { pw: 'not base64!!' } }],
    ['data.pw', { data: { pw: 'abc' } }],
    ['data.pw', { data: { pw: 42 } }],
    ['stringData.pw', { stringData: { pw: { nested: true } } }],
    ['data.bad/key', { data: { 'bad/key': '' } }],
    ['metadata.name', { metadata: { name: 'Not_A_Name', namespace: 'payments' } }],
    ['metadata.namespace', { metadata: { name: 'ok', namespace: 'a.b' } }],
    ['type', { type: '' }],
    ['immutable', { immutable: 'yes' }],
    ['spec', { spec: {} }],
  ])('malformed field %s gives an InputError with that path', (path, overrides) => {
    const err = thrown(() => sealSecret(secretManifest(overrides), key));
    expect(err).toBeInstanceOf(InputError);
    expect(err.code).toBe('SEAL_INVALID_SECRET');
    expect(err.location).toEqual({ path });
  });

  test('a value over 1 MiB, or values together over 1 MiB, are refused', () => {
    const over = Buffer.alloc(MAX_VALUE_BYTES + 1).toString('base64');
    const err = thrown(() => sealSecret(secretManifest({ data: { big: over } }), key));
    expect(err.code).toBe('SEAL_VALUE_TOO_LARGE');
    expect(err.location).toEqual({ path: 'data.big' });
    const half = Buffer.alloc(MAX_VALUE_BYTES / 2 + 1).toString('base64');
    expect(thrown(() => sealSecret(secretManifest({ data: { a: half, b: half } }), key)).code).toBe('SEAL_VALUE_TOO_LARGE');
    expect(thrown(() => sealValue(Buffer.alloc(MAX_VALUE_BYTES + 1), key, { scope: 'cluster-wide', dataKey: 'k' })).code).toBe('SEAL_VALUE_TOO_LARGE');
  });

  test('a Secret with no data is refused unless allowed', () => {
    const empty = secretManifest({ stringData: undefined });
    expect(thrown(() => sealSecret(empty, key)).code).toBe('SEAL_EMPTY_SECRET');
    const sealed = sealSecret(empty, key, { allowEmpty: true });
    expect(unsealSealedSecret(sealed, ring).data).toEqual({});
  });

  test('a Secret without a name cannot be sealed', () => {
    expect(thrown(() => sealSecret(secretManifest({ metadata: { namespace: 'payments' } }), key)).location).toEqual({ path: 'metadata.name' });
  });

  test('an unknown scope is refused', () => {
    expect(thrown(() => sealSecret(secretManifest(), key, { scope: 'global' as never })).code).toBe('SEAL_INVALID_SECRET');
  });
});

describe('SealedSecret validation on unseal', () => {
  const good = (): SealedSecret => sealSecret(secretManifest(), key);

  test.each([
    ['spec.template.data', (s: SealedSecret) => Object.assign(s.spec.template!, { data: { url: 'https://evil.example' } })],
    ['spec.template.metadata.name', (s: SealedSecret) => Object.assign(s.spec.template!, { metadata: { name: 'other' } })],
    ['spec.template.metadata.namespace', (s: SealedSecret) => Object.assign(s.spec.template!, { metadata: { namespace: 'other' } })],
    ['spec.scope', (s: SealedSecret) => Object.assign(s.spec, { scope: 'everywhere' })],
    ['spec.encryptedData.password', (s: SealedSecret) => Object.assign(s.spec.encryptedData, { password: 7 })],
    ['spec.extra', (s: SealedSecret) => Object.assign(s.spec, { extra: true })],
    ['apiVersion', (s: SealedSecret) => Object.assign(s, { apiVersion: 'bitnami.com/v1alpha1' })],
  ])('refuses a malformed %s', (path, mutate) => {
    const s = good();
    mutate(s);
    const err = thrown(() => unsealSealedSecret(s, ring));
    expect(err.code).toBe('SEAL_INVALID_SEALED_SECRET');
    expect(err.location).toEqual({ path });
  });

  test('template name/namespace equal to the object are accepted', () => {
    const s = good();
    s.spec.template!.metadata = { name: 'db-credentials', namespace: 'payments' } as never;
    expect(unsealSealedSecret(s, ring).metadata.name).toBe('db-credentials');
  });
});

test('unsealing refuses values that together exceed 1 MiB (Kubernetes would refuse the Secret)', () => {
  const half = Buffer.alloc(MAX_VALUE_BYTES / 2 + 1);
  const a = sealSecret(secretManifest({ data: { a: half.toString('base64') }, stringData: undefined }), key);
  a.spec.encryptedData.b = sealValue(half, key, { namespace: 'payments', name: 'db-credentials', dataKey: 'b' });
  expect(thrown(() => unsealSealedSecret(a, ring)).code).toBe('SEAL_VALUE_TOO_LARGE');
});
