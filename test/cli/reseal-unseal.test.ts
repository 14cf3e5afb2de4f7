import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealingKeyring, formatPrivateKey, generateSealingKey, sealSecret, sealedKeyIds, unsealSealedSecret, type SealedSecret, type Secret } from '../../src/secrets/index.js';
import { bitnamiSealedSecret, leakForms, runCliInput } from './sealing-helpers.js';

const PLAIN = 'cli-reseal-plaintext-e81f';
const oldKey = generateSealingKey(new Date('2025-01-01T00:00:00Z'));
const newKey = generateSealingKey(new Date('2025-06-01T00:00:00Z'));
let dir: string;
let keyDir: string;
let oldFile: string;
let newFile: string;

const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'payments' }, stringData: { password: PLAIN, user: 'app' } };
const sealedOld = () => sealSecret(secret, oldKey.public);

function noLeak(r: { stdout: string; stderr: string }) {
  for (const form of leakForms(PLAIN)) {
    expect(r.stdout).not.toContain(form);
    expect(r.stderr).not.toContain(form);
  }
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'syncgate-cli-reseal-'));
  keyDir = path.join(dir, 'keys');
  mkdirSync(keyDir);
  oldFile = path.join(keyDir, 'old.key');
  newFile = path.join(keyDir, 'new.key');
  writeFileSync(oldFile, formatPrivateKey(oldKey));
  writeFileSync(newFile, formatPrivateKey(newKey));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('syncgate reseal', () => {
  it('moves every value to the newest key (--key-dir), prints the summary, and the values still open', async () => {
    const r = await runCliInput(['reseal', '--key-dir', keyDir], yaml.dump(sealedOld()));
    expect(r.code).toBe(0);
    noLeak(r);
    const out = yaml.load(r.stdout) as SealedSecret;
    expect(Object.values(sealedKeyIds(out))).toEqual([newKey.keyId, newKey.keyId]);
    expect(r.stderr).toBe(`syncgate: resealed 2 of 2 values to key ${newKey.keyId}\n`);
    const secretOut = unsealSealedSecret(out, new SealingKeyring([newKey]));
    expect(Buffer.from(secretOut.data.password!, 'base64').toString()).toBe(PLAIN);
  });

  it('--in-place rewrites the file in its own format; values already on the newest key stay byte-identical', async () => {
    const file = path.join(dir, 'mixed.json');
    const mixed = sealedOld();
    const fresh = sealSecret(secret, newKey.public);
    mixed.spec.encryptedData.user = fresh.spec.encryptedData.user!;
    writeFileSync(file, JSON.stringify(mixed, null, 2));
    const r = await runCliInput(['reseal', '--file', file, '--in-place', '--private-key', oldFile, '--private-key', newFile, '--output', 'json'], undefined);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stderr)).toEqual({ keyId: newKey.keyId, resealed: 1, values: 2 });
    const out = JSON.parse(readFileSync(file, 'utf8')) as SealedSecret;
    expect(out.spec.encryptedData.user).toBe(fresh.spec.encryptedData.user);
    expect(sealedKeyIds(out).password).toBe(newKey.keyId);
  });

  it('a value sealed to a key that is not given fails with exit 1 (SEAL_UNKNOWN_KEY_ID), naming the data key only', async () => {
    const r = await runCliInput(['reseal', '--private-key', newFile], yaml.dump(sealedOld()));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^syncgate: SEAL_UNKNOWN_KEY_ID: .*payments\/db.*password/);
    expect(r.stdout).toBe('');
    noLeak(r);
  });

  it.each([
    [[], /give --private-key FILE .* or --key-dir DIR/],
    [['--key-dir', '@keys', '--in-place'], /--in-place needs --file/],
    [['--private-key', '/nonexistent.key'], /SEAL_KEY_READ_FAILED/],
    [['--key-dir', '@keys', '--format', 'xml'], /--format must be yaml or json/],
  ])('usage errors %j exit 2', async (args, message) => {
    const r = await runCliInput(['reseal', ...(args as string[]).map((a) => (a === '@keys' ? keyDir : a))], yaml.dump(sealedOld()));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses a plain Secret and a Bitnami SealedSecret (exit 2)', async () => {
    const plain = await runCliInput(['reseal', '--key-dir', keyDir], yaml.dump(secret));
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/SEAL_INVALID_SEALED_SECRET: SealedSecret: apiVersion must be/);
    noLeak(plain);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const bitnami = await runCliInput(['reseal', '--key-dir', keyDir], yaml.dump(bitnamiSealedSecret(rsa.publicKey, { a: 'b' })));
    expect(bitnami.code).toBe(2);
    expect(bitnami.stderr).toMatch(/convert it with seal --from-bitnami/);
  });
});

describe('syncgate unseal (offline recovery: the only command that prints plaintext)', () => {
  it('prints the Secret with --private-key', async () => {
    const r = await runCliInput(['unseal', '--private-key', oldFile], yaml.dump(sealedOld()));
    expect(r.code).toBe(0);
    const out = yaml.load(r.stdout) as Secret;
    expect(out).toMatchObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'payments' }, type: 'Opaque' });
    expect(Buffer.from(out.data.password!, 'base64').toString()).toBe(PLAIN);
    expect(r.stderr).toBe('');
  });

  it('--out writes mode 0600, --format json; a key dir covers several keys', async () => {
    const outFile = path.join(dir, 'recovered.json');
    const two = `${yaml.dump(sealedOld())}---\n${yaml.dump(sealSecret({ ...secret, metadata: { name: 'b', namespace: 'payments' } }, newKey.public))}`;
    const r = await runCliInput(['unseal', '--key-dir', keyDir, '--out', outFile, '--format', 'json'], two);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(statSync(outFile).mode & 0o777).toBe(0o600);
    const list = JSON.parse(readFileSync(outFile, 'utf8'));
    expect(list.kind).toBe('List');
    expect(list.items.map((s: Secret) => s.metadata.name)).toEqual(['db', 'b']);
  });

  it('a tampered value fails with exit 1 (SEAL_TAMPERED) and prints nothing of the Secret', async () => {
    const sealed = sealedOld();
    const bytes = Buffer.from(sealed.spec.encryptedData.password!, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    sealed.spec.encryptedData.password = bytes.toString('base64');
    const r = await runCliInput(['unseal', '--private-key', oldFile], yaml.dump(sealed));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^syncgate: SEAL_TAMPERED: .*payments\/db.*password/);
    expect(r.stdout).toBe('');
    noLeak(r);
  });

  it('a value moved to another object fails (SEAL_SCOPE_MISMATCH, exit 1)', async () => {
    const sealed = sealedOld();
    sealed.metadata.name = 'other';
    const r = await runCliInput(['unseal', '--private-key', oldFile], yaml.dump(sealed));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SEAL_SCOPE_MISMATCH/);
    expect(r.stdout).toBe('');
  });

  it('opens Bitnami SealedSecrets with --bitnami-key (PEM or key Secret backup)', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
    const backup = path.join(dir, 'bitnami-backup.yaml');
    writeFileSync(backup, yaml.dump({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sealed-secrets-keyabc' }, type: 'kubernetes.io/tls', data: { 'tls.key': Buffer.from(pem).toString('base64'), 'tls.crt': '' } }] }));
    const r = await runCliInput(['unseal', '--bitnami-key', backup], yaml.dump(bitnamiSealedSecret(rsa.publicKey, { password: PLAIN })));
    expect(r.code).toBe(0);
    expect(Buffer.from((yaml.load(r.stdout) as Secret).data.password!, 'base64').toString()).toBe(PLAIN);
    const ours = await runCliInput(['unseal', '--bitnami-key', backup], yaml.dump(sealedOld()));
    expect(ours.code).toBe(2);
    expect(ours.stderr).toMatch(/give --private-key FILE or --key-dir DIR/);
    const theirs = await runCliInput(['unseal', '--private-key', oldFile], yaml.dump(bitnamiSealedSecret(rsa.publicKey, { a: PLAIN })));
    expect(theirs.code).toBe(2);
    expect(theirs.stderr).toMatch(/give --bitnami-key FILE/);
  });

  it.each([
    [[], /give --private-key FILE, --key-dir DIR or --bitnami-key FILE/],
    [['--private-key', '@old', '--format', 'xml'], /--format must be yaml or json/],
    [['--bitnami-key', '@old'], /SEAL_KEY_INVALID: Bitnami key/],
  ])('usage errors %j exit 2', async (args, message) => {
    const r = await runCliInput(['unseal', ...(args as string[]).map((a) => (a === '@old' ? oldFile : a))], yaml.dump(sealedOld()));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('refuses input that is not a SealedSecret, naming the field (exit 2)', async () => {
    const r = await runCliInput(['unseal', '--private-key', oldFile], yaml.dump(secret));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SEAL_INVALID_SEALED_SECRET: SealedSecret: apiVersion must be syncgate.dev\/v1alpha1/);
    noLeak(r);
  });
});
