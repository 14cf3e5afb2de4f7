import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import { SEALING_KEY_LABEL, keyFromSecret } from '../../src/kube/index.js';
import { SCOPES, SEALED_SECRET_API_VERSION, SEALED_SECRET_KIND, generateSealingKey, sealSecret } from '../../src/secrets/index.js';
import { FakeKube } from '../helpers/fake-kube.js';
import { CHART, HELM, REPO_ROOT, type K8sObject, only, render } from './helm.js';

/**
 * The parts of OpenAPI v3 a CRD structural schema uses here, checked the way the API server
 * would: type, required, properties, additionalProperties, enum, pattern, lengths, maxProperties.
 */
interface Schema {
  type?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  maxProperties?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

function validate(value: unknown, s: Schema, at = ''): string[] {
  const errors: string[] = [];
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  if (s.type && !(s.type === type || (s.type === 'integer' && Number.isInteger(value)))) return [`${at || '.'}: want ${s.type}, got ${type}`];
  if (s.enum && !s.enum.includes(value)) errors.push(`${at}: ${String(value)} not in ${s.enum.join('|')}`);
  if (typeof value === 'string') {
    if (s.pattern && !new RegExp(s.pattern).test(value)) errors.push(`${at}: does not match ${s.pattern}`);
    if (s.minLength !== undefined && value.length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && value.length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
  }
  if (type === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in obj)) errors.push(`${at}.${r}: required`);
    if (s.maxProperties !== undefined && Object.keys(obj).length > s.maxProperties) errors.push(`${at}: too many properties`);
    for (const [k, v] of Object.entries(obj)) {
      const child = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (child) errors.push(...validate(v, child, `${at}.${k}`));
      else if (s.properties && !s['x-kubernetes-preserve-unknown-fields'] && at !== '.metadata') errors.push(`${at}.${k}: unknown field (pruned)`);
    }
  }
  return errors;
}

/** Every object node of a structural schema must say its type (the API server refuses the CRD otherwise). */
function untyped(s: Schema, at = ''): string[] {
  const out = s.type || s['x-kubernetes-preserve-unknown-fields'] ? [] : [at || '.'];
  for (const [k, child] of Object.entries(s.properties ?? {})) out.push(...untyped(child, `${at}.${k}`));
  if (typeof s.additionalProperties === 'object') out.push(...untyped(s.additionalProperties, `${at}.*`));
  return out;
}

describe.skipIf(!HELM)('chart: SealedSecret CRD', () => {
  const crd = HELM
    ? (only(render({ valuesFiles: ['ci/standalone-values.yaml'], showOnly: 'templates/crd-sealedsecret.yaml' }), 'CustomResourceDefinition') as K8sObject & {
        spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: { name: string; storage: boolean; schema: { openAPIV3Schema: Schema } }[] };
      })
    : undefined;
  const schema = crd?.spec.versions[0]?.schema.openAPIV3Schema as Schema;

  it('names the group, version and kind the gate reads (src/secrets/format.ts)', () => {
    expect(`${crd!.spec.group}/${crd!.spec.versions[0]!.name}`).toBe(SEALED_SECRET_API_VERSION);
    expect(crd!.spec.names.kind).toBe(SEALED_SECRET_KIND);
    expect(crd!.metadata.name).toBe(`${crd!.spec.names.plural}.${crd!.spec.group}`);
    expect(crd!.spec.scope).toBe('Namespaced');
    expect(crd!.spec.versions.filter((v) => v.storage)).toHaveLength(1);
  });

  it('is a structural schema whose scope enum is exactly the library\'s scopes, with no template.data', () => {
    expect(untyped(schema)).toEqual([]);
    const spec = schema.properties!.spec!;
    expect(spec.required).toEqual(['encryptedData']);
    expect(spec.properties!.scope!.enum).toEqual([...SCOPES]);
    expect(Object.keys(spec.properties!.template!.properties!).sort()).toEqual(['immutable', 'metadata', 'type']);
  });

  it('accepts what `sealSecret` produces, for every scope', () => {
    const key = generateSealingKey();
    for (const scope of SCOPES) {
      const sealed = sealSecret(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'db', namespace: 'payments', labels: { app: 'payments' } },
          type: 'kubernetes.io/basic-auth',
          data: { username: Buffer.from('app').toString('base64'), password: Buffer.from('').toString('base64') },
        },
        key.public,
        { scope },
      );
      expect(validate(sealed, schema), scope).toEqual([]);
    }
  });

  it('refuses what the gate refuses: an unknown scope, a non-base64 or truncated value, plaintext template data', () => {
    const key = generateSealingKey();
    const good = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a', namespace: 'b' }, data: { k: Buffer.from('v').toString('base64') } }, key.public, {});
    const withSpec = (spec: Record<string, unknown>) => ({ ...good, spec: { ...good.spec, ...spec } });
    expect(validate(withSpec({ scope: 'global' }), schema).join()).toContain('not in');
    expect(validate(withSpec({ encryptedData: { k: 'not base64!' } }), schema).join()).toContain('does not match');
    expect(validate(withSpec({ encryptedData: { k: 'AQID' } }), schema).join()).toContain('shorter than');
    expect(validate(withSpec({ template: { data: { url: 'https://evil.invalid' } } }), schema).join()).toContain('unknown field');
    expect(validate({ ...good, spec: { scope: 'strict' } }, schema).join()).toContain('encryptedData: required');
  });
});

const DIST = path.join(REPO_ROOT, 'dist');
const SCRIPT = path.join(CHART, 'files', 'bootstrap-keys.mjs');

function runBootstrap(kubeconfig: string, namespace: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], {
      env: { PATH: process.env.PATH, KUBECONFIG: kubeconfig, POD_NAMESPACE: namespace, SYNCGATE_DIST: DIST },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Runs the chart's bootstrap Job script with the built library (npm test builds dist first).
describe('chart: sealing key bootstrap script against the local API stand-in', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'syncgate-bootstrap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let fake: FakeKube;
  let kubeconfig: string;
  beforeEach(async () => {
    fake = await FakeKube.start({ token: 'bootstrap-token' });
    kubeconfig = path.join(dir, `kubeconfig-${fake.port}`);
    writeFileSync(kubeconfig, fake.kubeconfig());
  });
  afterEach(() => fake.stop());

  it('needs the built library', () => {
    expect(existsSync(path.join(DIST, 'kube', 'index.js')), 'run `npm run build` first').toBe(true);
  });

  it('creates one active key Secret in the gate namespace, then does nothing on the next run', async () => {
    const first = await runBootstrap(kubeconfig, 'syncgate');
    expect(first.code, first.stderr).toBe(0);
    const created = [...fake.secrets.values()].filter((s) => s.metadata.namespace === 'syncgate');
    expect(created).toHaveLength(1);
    const secret = created[0]!;
    expect(secret.metadata.labels?.[SEALING_KEY_LABEL]).toBe('active');
    const key = keyFromSecret(secret as unknown as V1Secret);
    expect(first.stdout).toContain(`created sealing key ${key.keyId}`);
    expect(first.stdout + first.stderr).not.toContain(secret.data!['sealing.key']!);

    const second = await runBootstrap(kubeconfig, 'syncgate');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`1 active sealing key(s) in syncgate: ${key.keyId}; nothing to do`);
    expect([...fake.secrets.values()].filter((s) => s.metadata.namespace === 'syncgate')).toHaveLength(1);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('refuses to add a key next to an unusable active key Secret, and says which', async () => {
    fake.put({ metadata: { name: 'broken-key', namespace: 'syncgate', labels: { [SEALING_KEY_LABEL]: 'active' } }, data: { 'sealing.key': Buffer.from('not a key').toString('base64') } });
    const r = await runBootstrap(kubeconfig, 'syncgate');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('broken-key');
    expect(fake.requests.filter((q) => q.method === 'POST')).toHaveLength(0);
  });

  it('fails with the API error when it may not create Secrets', async () => {
    fake.failNext(403, { method: 'POST' });
    const r = await runBootstrap(kubeconfig, 'syncgate');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KUBE_FORBIDDEN');
  });
});
