import { constants, createCipheriv, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import yaml from 'js-yaml';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  SealingKeyring,
  bitnamiScope,
  convertBitnamiSealedSecret,
  generateSealingKey,
  parseBitnamiPrivateKeys,
  unsealBitnamiSealedSecret,
  unsealSealedSecret,
} from '../../src/secrets/index.js';
import { fromB64, thrown } from './helpers.js';

/** Bitnami's HybridEncrypt (pkg/crypto/crypto.go), written from its documented layout. */
function bitnamiSeal(publicKey: KeyObject, label: string, plaintext: string | Buffer): string {
  const sessionKey = randomBytes(32);
  const rsaCt = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) }, sessionKey);
  const cipher = createCipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(rsaCt.length);
  return Buffer.concat([len, rsaCt, body]).toString('base64');
}

function labelFor(scope: string, ns: string, name: string): string {
  return scope === 'strict' ? `${ns}/${name}` : scope === 'namespace-wide' ? ns : '';
}

function bitnamiObject(pub: KeyObject, scope: 'strict' | 'namespace-wide' | 'cluster-wide', values: Record<string, string>, extra: Record<string, unknown> = {}) {
  const annotations: Record<string, string> = {};
  if (scope === 'namespace-wide') annotations['sealedsecrets.bitnami.com/namespace-wide'] = 'true';
  if (scope === 'cluster-wide') annotations['sealedsecrets.bitnami.com/cluster-wide'] = 'true';
  const label = labelFor(scope, 'payments', 'db');
  return {
    apiVersion: 'bitnami.com/v1alpha1',
    kind: 'SealedSecret',
    metadata: { name: 'db', namespace: 'payments', annotations },
    spec: {
      encryptedData: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, bitnamiSeal(pub, label, v)])),
      template: { metadata: { name: 'db', namespace: 'payments', creationTimestamp: null, labels: { app: 'pay' }, annotations }, type: 'Opaque' },
      ...extra,
    },
  };
}

let key1: { publicKey: KeyObject; privateKey: KeyObject };
let key2: { publicKey: KeyObject; privateKey: KeyObject };
let pkcs1Pem: string;

beforeAll(() => {
  key1 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  key2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
  pkcs1Pem = key1.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
});

describe('Bitnami SealedSecret decryption', () => {
  test.each(['strict', 'namespace-wide', 'cluster-wide'] as const)('scope %s opens with its label', (scope) => {
    const obj = bitnamiObject(key1.publicKey, scope, { password: 'bitnami-secret-pw', user: 'u' });
    expect(bitnamiScope(obj)).toBe(scope);
    const secret = unsealBitnamiSealedSecret(obj, parseBitnamiPrivateKeys(pkcs1Pem, 'tls.key'));
    expect(secret.metadata.name).toBe('db');
    expect(secret.metadata.namespace).toBe('payments');
    expect(secret.metadata.labels).toEqual({ app: 'pay' });
    expect(secret.type).toBe('Opaque');
    expect(fromB64(secret.data.password).toString()).toBe('bitnami-secret-pw');
    expect(fromB64(secret.data.user).toString()).toBe('u');
  });

  test('cluster-wide wins when both annotations are set', () => {
    const obj = bitnamiObject(key1.publicKey, 'cluster-wide', { a: 'x' });
    obj.metadata.annotations['sealedsecrets.bitnami.com/namespace-wide'] = 'true';
    expect(bitnamiScope(obj)).toBe('cluster-wide');
    expect(fromB64(unsealBitnamiSealedSecret(obj, [key1.privateKey]).data.a).toString()).toBe('x');
  });

  test('a strict value moved to another name or namespace does not open', () => {
    for (const [field, value] of [['name', 'other'], ['namespace', 'other']] as const) {
      const obj = bitnamiObject(key1.publicKey, 'strict', { a: 'x' });
      obj.metadata[field] = value;
      const err = thrown(() => unsealBitnamiSealedSecret(obj, [key1.privateKey]));
      expect(err.code).toBe('BITNAMI_NO_KEY_COULD_DECRYPT');
      expect(err.message).toContain('data key "a"');
    }
  });

  test('tries every key (Bitnami values carry no key id)', () => {
    const obj = bitnamiObject(key2.publicKey, 'strict', { a: 'x' });
    expect(fromB64(unsealBitnamiSealedSecret(obj, [key1.privateKey, key2.privateKey]).data.a).toString()).toBe('x');
    expect(thrown(() => unsealBitnamiSealedSecret(obj, [key1.privateKey])).code).toBe('BITNAMI_NO_KEY_COULD_DECRYPT');
  });

  test('binary and empty values', () => {
    const bin = Buffer.from([0, 255, 1, 254]);
    const obj = bitnamiObject(key1.publicKey, 'strict', { empty: '' });
    obj.spec.encryptedData.bin = bitnamiSeal(key1.publicKey, 'payments/db', bin);
    const out = unsealBitnamiSealedSecret(obj, [key1.privateKey]);
    expect(fromB64(out.data.bin)).toEqual(bin);
    expect(out.data.empty).toBe('');
  });

  test('tampered and truncated values are refused', () => {
    const obj = bitnamiObject(key1.publicKey, 'strict', { a: 'some value' });
    const bytes = Buffer.from(obj.spec.encryptedData.a!, 'base64');
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 20]! ^= 1;
    obj.spec.encryptedData.a = flipped.toString('base64');
    expect(thrown(() => unsealBitnamiSealedSecret(obj, [key1.privateKey])).code).toBe('SEAL_TAMPERED');
    obj.spec.encryptedData.a = bytes.subarray(0, 100).toString('base64');
    expect(thrown(() => unsealBitnamiSealedSecret(obj, [key1.privateKey])).code).toBe('SEAL_TRUNCATED');
  });

  test('template data (Go templates) and the deprecated spec.data are refused, not half-converted', () => {
    const withTemplateData = bitnamiObject(key1.publicKey, 'strict', { a: 'x' });
    (withTemplateData.spec.template as Record<string, unknown>).data = { url: 'https://{{ .a }}' };
    const err = thrown(() => unsealBitnamiSealedSecret(withTemplateData, [key1.privateKey]));
    expect(err.code).toBe('BITNAMI_UNSUPPORTED');
    expect(err.location).toEqual({ path: 'spec.template.data' });
    const v1 = bitnamiObject(key1.publicKey, 'strict', {}, { data: 'AAAA' });
    expect(thrown(() => unsealBitnamiSealedSecret(v1, [key1.privateKey])).code).toBe('BITNAMI_UNSUPPORTED');
  });

  test('a 4096-bit key gives values starting "Ag" like kubeseal output, and they open', () => {
    const big = generateKeyPairSync('rsa', { modulusLength: 4096 });
    const obj = bitnamiObject(big.publicKey, 'strict', { a: 'x' });
    expect(obj.spec.encryptedData.a!.startsWith('Ag')).toBe(true);
    expect(fromB64(unsealBitnamiSealedSecret(obj, [big.privateKey]).data.a).toString()).toBe('x');
  });
});

describe('Bitnami key files', () => {
  test('PKCS#1 and PKCS#8 PEM, several blocks in one file', () => {
    const pkcs8 = key2.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(parseBitnamiPrivateKeys(pkcs1Pem + pkcs8, 'keys.pem')).toHaveLength(2);
  });

  test('a YAML backup of the key Secrets (v1 List), and JSON', () => {
    const secretFor = (pem: string, name: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: 'kube-system', labels: { 'sealedsecrets.bitnami.com/sealed-secrets-key': 'active' } },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from('cert').toString('base64'), 'tls.key': Buffer.from(pem).toString('base64') },
    });
    const list = { apiVersion: 'v1', kind: 'List', items: [secretFor(pkcs1Pem, 'k1'), secretFor(key2.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(), 'k2')] };
    const keys = parseBitnamiPrivateKeys(yaml.dump(list), 'main.key');
    expect(keys).toHaveLength(2);
    const obj = bitnamiObject(key2.publicKey, 'strict', { a: 'x' });
    expect(fromB64(unsealBitnamiSealedSecret(obj, keys).data.a).toString()).toBe('x');
    expect(parseBitnamiPrivateKeys(JSON.stringify(list.items[0]), 'k1.json')).toHaveLength(1);
  });

  test('bad key material is a ConfigError naming the source, without key bytes', () => {
    for (const text of ['nothing here', '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n', 'kind: Secret\ndata: {}\n']) {
      const err = thrown(() => parseBitnamiPrivateKeys(text, 'backup.yaml'));
      expect(err.code).toBe('SEAL_KEY_INVALID');
      expect(err.message).toContain('backup.yaml');
    }
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(thrown(() => parseBitnamiPrivateKeys(ec, 'ec.pem')).message).toMatch(/not an RSA key/);
  });
});

describe('conversion to the syncgate format', () => {
  test('keeps scope, template metadata and values', () => {
    const ours = generateSealingKey();
    const obj = bitnamiObject(key1.publicKey, 'namespace-wide', { password: 'migrated-pw' });
    const converted = convertBitnamiSealedSecret(obj, [key1.privateKey], ours);
    expect(converted.apiVersion).toBe('syncgate.dev/v1alpha1');
    expect(converted.spec.scope).toBe('namespace-wide');
    expect(converted.spec.template?.metadata).toEqual({ labels: { app: 'pay' } }); // Bitnami's annotations dropped
    expect(JSON.stringify(converted)).not.toContain('migrated-pw');
    const secret = unsealSealedSecret(converted, new SealingKeyring([ours]));
    expect(fromB64(secret.data.password).toString()).toBe('migrated-pw');
  });

  test('the scope can be narrowed on conversion', () => {
    const ours = generateSealingKey();
    const converted = convertBitnamiSealedSecret(bitnamiObject(key1.publicKey, 'cluster-wide', { a: 'x' }), [key1.privateKey], ours, { scope: 'strict' });
    expect(converted.spec.scope).toBe('strict');
    expect(unsealSealedSecret(converted, new SealingKeyring([ours])).data.a).toBe(Buffer.from('x').toString('base64'));
  });
});
