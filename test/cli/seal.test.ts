import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SealingKeyring,
  formatPrivateKey,
  formatPublicKey,
  generateSealingKey,
  sealSecret,
  sealedKeyIds,
  unsealSealedSecret,
  type SealedSecret,
} from '../../src/secrets/index.js';
import { deadPort } from '../helpers/fake-kube.js';
import { bitnamiSealedSecret, leakForms, runCliInput, sendJson, startHttp } from './sealing-helpers.js';

const PLAIN = 'cli-seal-plaintext-5b2c';
const key = generateSealingKey(new Date('2025-05-01T00:00:00Z'));
const keyring = new SealingKeyring([key]);
let dir: string;
let pub: string;

const secretYaml = (extra = '') => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: payments\nstringData:\n  password: ${PLAIN}\n  user: app\n${extra}`;
const opened = (sealed: unknown) => Object.fromEntries(Object.entries(unsealSealedSecret(sealed, keyring).data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

function noLeak(r: { stdout: string; stderr: string }, plain = PLAIN) {
  for (const form of leakForms(plain)) {
    expect(r.stdout).not.toContain(form);
    expect(r.stderr).not.toContain(form);
  }
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'syncgate-cli-seal-'));
  pub = path.join(dir, 'key.pub');
  writeFileSync(pub, formatPublicKey(key));
  writeFileSync(path.join(dir, 'key.key'), formatPrivateKey(key));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('syncgate seal', () => {
  it('reads a Secret from stdin and writes a SealedSecret (YAML) that the cluster key opens', async () => {
    const r = await runCliInput(['seal', '--key', pub], secretYaml());
    expect(r.code).toBe(0);
    noLeak(r);
    const sealed = yaml.load(r.stdout) as SealedSecret;
    expect(sealed).toMatchObject({ apiVersion: 'syncgate.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'payments' }, spec: { scope: 'strict' } });
    expect(opened(sealed)).toEqual({ password: PLAIN, user: 'app' });
  });

  it('reads JSON from --file, writes --format json to --out, with --scope and --namespace', async () => {
    const file = path.join(dir, 'in.json');
    const out = path.join(dir, 'out.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'api' }, data: { token: Buffer.from(PLAIN).toString('base64') } }));
    const r = await runCliInput(['seal', '--key', pub, '--file', file, '--format', 'json', '--out', out, '--scope', 'namespace-wide', '--namespace', 'team'], undefined);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const sealed = JSON.parse(readFileSync(out, 'utf8'));
    expect(sealed.spec.scope).toBe('namespace-wide');
    expect(sealed.metadata.namespace).toBe('team');
    expect(opened(sealed)).toEqual({ token: PLAIN });
  });

  it('seals several Secrets of one stream, and binary data round-trips', async () => {
    const binary = Buffer.from([0, 255, 1, 254, 128]).toString('base64');
    const two = `${secretYaml()}---\napiVersion: v1\nkind: Secret\nmetadata: {name: bin, namespace: payments}\ndata: {blob: ${binary}}\n`;
    const r = await runCliInput(['seal', '--key', pub], two);
    expect(r.code).toBe(0);
    const docs = yaml.loadAll(r.stdout) as SealedSecret[];
    expect(docs.map((d) => d.metadata.name)).toEqual(['db', 'bin']);
    expect(unsealSealedSecret(docs[1], keyring).data.blob).toBe(binary);
  });

  it.each([
    ['a ConfigMap', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\ndata: {a: b}\n', /SEAL_NOT_A_SECRET: .*kind "ConfigMap"/],
    ['a SealedSecret', 'apiVersion: syncgate.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: x}\n', /SEAL_NOT_A_SECRET/],
    ['bad base64 data', `apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\ndata: {password: "${PLAIN}!!"}\n`, /SEAL_INVALID_SECRET: Secret: data.password is not valid standard base64/],
    ['an unknown field', `apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\nspec: {}\nstringData: {a: "${PLAIN}"}\n`, /SEAL_INVALID_SECRET: Secret: spec is not a supported field/],
    ['no data', 'apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\n', /SEAL_EMPTY_SECRET/],
    ['no namespace (strict)', `apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {a: "${PLAIN}"}\n`, /metadata.namespace is required/],
    ['broken YAML', `apiVersion: v1\nkind: Secret\nstringData: {password: "${PLAIN}"\n  x: [\n`, /INPUT_INVALID: stdin: not valid YAML or JSON at line \d+/],
    ['nothing', '', /INPUT_EMPTY/],
    ['the second document', `${secretYaml()}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n`, /SEAL_NOT_A_SECRET: document 2: /],
  ])('refuses %s with exit 2 and a clear message, never quoting the value', async (_what, input, message) => {
    const r = await runCliInput(['seal', '--key', pub], input);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    noLeak(r);
  });

  it('--allow-empty seals a Secret without data', async () => {
    const r = await runCliInput(['seal', '--key', pub, '--allow-empty'], 'apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\n');
    expect(r.code).toBe(0);
    expect((yaml.load(r.stdout) as SealedSecret).spec.encryptedData).toEqual({});
  });

  it('refuses a value over 1 MiB (SEAL_VALUE_TOO_LARGE)', async () => {
    const big = 'x'.repeat(1024 * 1024 + 1);
    const r = await runCliInput(['seal', '--key', pub], `apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: y}\nstringData: {big: ${big}}\n`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SEAL_VALUE_TOO_LARGE/);
  });

  it.each([
    [[], /give --key FILE/],
    [['--key', path.join('/nonexistent', 'k.pub')], /SEAL_KEY_READ_FAILED/],
    [['--key', '@private'], /SEAL_KEY_INVALID: .*this is a private key/],
    [['--key', '@pub', '--scope', 'global'], /--scope must be one of strict, namespace-wide, cluster-wide/],
    [['--key', '@pub', '--format', 'toml'], /--format must be yaml or json/],
    [['--key', '@pub', '--raw', '--merge-into', 'x'], /--raw and --merge-into cannot be combined/],
    [['--key', '@pub', '--name', 'x'], /belong to --raw/],
    [['--key', '@pub', '--bitnami-key', 'x'], /--bitnami-key belongs to --from-bitnami/],
  ])('usage and key errors %j exit 2', async (args, message) => {
    const resolved = (args as string[]).map((a) => (a === '@pub' ? pub : a === '@private' ? path.join(dir, 'key.key') : a));
    const r = await runCliInput(['seal', ...resolved], secretYaml());
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    noLeak(r);
  });

  describe('--raw', () => {
    it('seals one value from stdin or --from-file KEY=FILE and prints just the envelope, bound to the data key', async () => {
      const r = await runCliInput(['seal', '--raw', '--key', pub, '--namespace', 'payments', '--name', 'db', '--data-key', 'password'], PLAIN);
      expect(r.code).toBe(0);
      noLeak(r);
      const envelope = r.stdout.trim();
      expect(envelope).toMatch(/^[A-Za-z0-9+/]+=*$/);
      const wrap = (dataKey: string): SealedSecret => ({ apiVersion: 'syncgate.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'db', namespace: 'payments' }, spec: { encryptedData: { [dataKey]: envelope } } });
      expect(opened(wrap('password'))).toEqual({ password: PLAIN });
      expect(() => unsealSealedSecret(wrap('token'), keyring)).toThrow(/SEAL_SCOPE_MISMATCH|scope/i);

      const file = path.join(dir, 'value.txt');
      writeFileSync(file, PLAIN);
      const f = await runCliInput(['seal', '--raw', '--key', pub, '--scope', 'cluster-wide', '--from-file', `token=${file}`], undefined);
      expect(f.code).toBe(0);
      const cw: SealedSecret = { apiVersion: 'syncgate.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: 'any' }, spec: { scope: 'cluster-wide', encryptedData: { token: f.stdout.trim() } } };
      expect(opened(cw)).toEqual({ token: PLAIN });
    });

    it.each([
      [['--namespace', 'p', '--name', 'n'], /--raw needs --data-key/],
      [['--namespace', 'p', '--data-key', 'k'], /name is required for scope strict/],
      [['--name', 'n', '--data-key', 'k'], /namespace is required/],
      [['--namespace', 'p', '--name', 'n', '--data-key', 'bad key'], /dataKey is not a valid Secret data key/],
    ])('raw errors %j exit 2', async (args, message) => {
      const r = await runCliInput(['seal', '--raw', '--key', pub, ...(args as string[])], PLAIN);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      noLeak(r);
    });
  });

  describe('--merge-into', () => {
    it('adds and replaces keys in place, keeps the other values byte-identical and the file format', async () => {
      const existing = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'payments' }, stringData: { keep: 'k', change: 'old' } }, key.public);
      const file = path.join(dir, 'merge.json');
      writeFileSync(file, JSON.stringify(existing, null, 2));
      const r = await runCliInput(['seal', '--key', pub, '--merge-into', file], `apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {change: "${PLAIN}", added: new}\n`);
      expect(r.code).toBe(0);
      noLeak(r);
      const text = readFileSync(file, 'utf8');
      expect(text.trimStart().startsWith('{')).toBe(true);
      const merged = JSON.parse(text) as SealedSecret;
      expect(merged.spec.encryptedData.keep).toBe(existing.spec.encryptedData.keep);
      expect(merged.spec.encryptedData.change).not.toBe(existing.spec.encryptedData.change);
      expect(opened(merged)).toEqual({ keep: 'k', change: PLAIN, added: 'new' });
    });

    it('refuses a Secret for another object (SEAL_MERGE_MISMATCH) and leaves the file untouched', async () => {
      const existing = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'payments' }, stringData: { a: 'b' } }, key.public);
      const file = path.join(dir, 'merge.yaml');
      writeFileSync(file, yaml.dump(existing));
      const before = readFileSync(file, 'utf8');
      const r = await runCliInput(['seal', '--key', pub, '--merge-into', file], `apiVersion: v1\nkind: Secret\nmetadata: {name: other}\nstringData: {a: "${PLAIN}"}\n`);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/SEAL_MERGE_MISMATCH/);
      expect(readFileSync(file, 'utf8')).toBe(before);
      const missing = await runCliInput(['seal', '--key', pub, '--merge-into', path.join(dir, 'nope.yaml')], secretYaml());
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/INPUT_UNREADABLE/);
    });
  });

  describe('--key URL (the gate\'s GET /v1/sealing-key)', () => {
    it('fetches {keyId, created, publicKey} and seals to it', async () => {
      const gate = await startHttp((req, _body, res) => {
        if (req.method === 'GET' && req.url === '/v1/sealing-key') sendJson(res, 200, { keyId: key.keyId, created: key.created!.toISOString(), publicKey: formatPublicKey(key) });
        else sendJson(res, 404, { code: 'NOT_FOUND' });
      });
      try {
        const r = await runCliInput(['seal', '--key', `${gate.url}/v1/sealing-key`], secretYaml());
        expect(r.code).toBe(0);
        expect(Object.values(sealedKeyIds(yaml.load(r.stdout)))).toEqual([key.keyId, key.keyId]);
      } finally {
        await gate.close();
      }
    });

    it.each([
      ['a key id that does not match the key', (k: string) => ({ status: 200, body: { keyId: '0000000000000000', created: null, publicKey: k } }), /SEAL_KEY_ID_MISMATCH/],
      ['a 500', () => ({ status: 500, body: { code: 'INTERNAL' } }), /GATE_BAD_ANSWER: .*HTTP 500/],
      ['the wrong shape', () => ({ status: 200, body: { key: 'x' } }), /GATE_BAD_ANSWER: .*did not answer \{keyId, created, publicKey\}/],
      ['a private key', () => ({ status: 200, body: { keyId: key.keyId, created: null, publicKey: formatPrivateKey(key) } }), /SEAL_KEY_INVALID/],
    ])('refuses %s (exit 2)', async (_what, answer, message) => {
      const gate = await startHttp((_req, _body, res) => {
        const a = answer(formatPublicKey(key));
        sendJson(res, a.status, a.body);
      });
      try {
        const r = await runCliInput(['seal', '--key', `${gate.url}/v1/sealing-key`], secretYaml());
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toContain(formatPrivateKey(key).split('\n').find((l) => l.startsWith('MC4'))!);
      } finally {
        await gate.close();
      }
    });

    it('a gate that is down: GATE_UNREACHABLE (exit 2)', async () => {
      const r = await runCliInput(['seal', '--key', `http://127.0.0.1:${await deadPort()}/v1/sealing-key`], secretYaml());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/GATE_UNREACHABLE: .*ECONNREFUSED/);
    });
  });

  describe('--validate (the gate\'s POST /v1/sealing-key/validate)', () => {
    const sealed = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'payments' }, stringData: { a: PLAIN, b: 'x' } }, key.public);

    it('posts the SealedSecret and exits 0 when the gate can unseal, 1 with the failing data keys when not', async () => {
      const bodies: unknown[] = [];
      let answer: unknown = { ok: true, failures: [] };
      const gate = await startHttp((req, body, res) => {
        if (req.method !== 'POST' || req.url !== '/v1/sealing-key/validate' || req.headers['content-type'] !== 'application/json') return sendJson(res, 404, {});
        bodies.push(JSON.parse(body));
        sendJson(res, 200, answer);
      });
      try {
        const ok = await runCliInput(['seal', '--validate', '--key', `${gate.url}/v1/sealing-key`], yaml.dump(sealed));
        expect(ok.code).toBe(0);
        expect(ok.stdout).toBe('payments/db: the gate can unseal every value\n');
        expect(bodies).toEqual([sealed]);

        answer = { ok: false, failures: [{ dataKey: 'b', code: 'SEAL_UNKNOWN_KEY_ID' }] };
        const bad = await runCliInput(['seal', '--validate', '--gate', gate.url, '--output', 'json'], JSON.stringify(sealed));
        expect(bad.code).toBe(1);
        expect(JSON.parse(bad.stdout)).toEqual({ object: 'payments/db', ok: false, failures: [{ dataKey: 'b', code: 'SEAL_UNKNOWN_KEY_ID' }] });
        noLeak(bad);
      } finally {
        await gate.close();
      }
    });

    it('input that is not a SealedSecret, no gate URL, a 400 answer or a down gate: exit 2', async () => {
      const gate = await startHttp((_req, _body, res) => sendJson(res, 400, { code: 'SEAL_INVALID_SEALED_SECRET', message: 'bad' }));
      try {
        const notSealed = await runCliInput(['seal', '--validate', '--gate', gate.url], secretYaml());
        expect(notSealed.code).toBe(2);
        expect(notSealed.stderr).toMatch(/SEAL_INVALID_SEALED_SECRET: SealedSecret: apiVersion must be syncgate.dev\/v1alpha1/);
        noLeak(notSealed);
        const noGate = await runCliInput(['seal', '--validate', '--key', pub], yaml.dump(sealed));
        expect(noGate.code).toBe(2);
        expect(noGate.stderr).toMatch(/--validate needs --gate URL/);
        const refused = await runCliInput(['seal', '--validate', '--gate', gate.url], yaml.dump(sealed));
        expect(refused.code).toBe(2);
        expect(refused.stderr).toMatch(/GATE_BAD_ANSWER: .*HTTP 400 \(SEAL_INVALID_SEALED_SECRET\)/);
      } finally {
        await gate.close();
      }
      const down = await runCliInput(['seal', '--validate', '--gate', `http://127.0.0.1:${await deadPort()}`], yaml.dump(sealed));
      expect(down.code).toBe(2);
      expect(down.stderr).toMatch(/GATE_UNREACHABLE/);
    });
  });

  describe('--from-bitnami', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    it('converts a Bitnami SealedSecret into ours, sealed to --key', async () => {
      const bitnamiFile = path.join(dir, 'bitnami.yaml');
      const bitnamiKey = path.join(dir, 'bitnami.pem');
      writeFileSync(bitnamiFile, yaml.dump(bitnamiSealedSecret(rsa.publicKey, { password: PLAIN })));
      writeFileSync(bitnamiKey, rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString());
      const r = await runCliInput(['seal', '--from-bitnami', bitnamiFile, '--bitnami-key', bitnamiKey, '--key', pub], undefined);
      expect(r.code).toBe(0);
      noLeak(r);
      const sealed = yaml.load(r.stdout) as SealedSecret;
      expect(sealed.apiVersion).toBe('syncgate.dev/v1alpha1');
      expect(opened(sealed)).toEqual({ password: PLAIN });

      const wrong = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const wrongKey = path.join(dir, 'wrong.pem');
      writeFileSync(wrongKey, wrong.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
      const bad = await runCliInput(['seal', '--from-bitnami', bitnamiFile, '--bitnami-key', wrongKey, '--key', pub], undefined);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/BITNAMI_NO_KEY_COULD_DECRYPT/);
      const noKey = await runCliInput(['seal', '--from-bitnami', bitnamiFile, '--key', pub], undefined);
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toMatch(/--from-bitnami needs --bitnami-key/);
      const notBitnami = await runCliInput(['seal', '--from-bitnami', pub, '--bitnami-key', bitnamiKey, '--key', pub], undefined);
      expect(notBitnami.code).toBe(2);
    });
  });
});
