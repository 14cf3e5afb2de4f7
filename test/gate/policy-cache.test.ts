import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestCache, PolicyResultCache } from '../../src/gate/manifest-cache.js';
import { parseManifests } from '../../src/gate/manifests.js';
import { evaluatePolicies, type PolicyStageOptions } from '../../src/gate/policy-stage.js';
import { clockPolicy, loadPolicySet, policyDir } from '../helpers/policies.js';

const limits = { manifests: 100, manifestNodes: 100_000, manifestDepth: 32 };
const scratch = mkdtempSync(path.join(tmpdir(), 'syncgate-policy-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const load = loadPolicySet;

const options = (now: Date): PolicyStageOptions => ({ modes: { defaultMode: 'enforce', overrides: {} }, bindings: {}, now });

const app = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop, labels: {app.kubernetes.io/name: settings}}
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata: {name: root, namespace: shop}
spec:
  hostNetwork: true
  containers:
    - name: c
      image: nginx:latest
      securityContext: {privileged: true}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app.kubernetes.io/name: web}}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: web}}
  template:
    metadata: {labels: {app.kubernetes.io/name: web}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: web
          image: registry.k8s.io/web:1.0
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`;

describe('policy results through the cache', () => {
  it('gives the same evidence as evaluating every manifest, and serves a repeat from the cache', async () => {
    const set = await load([path.resolve('policies')]);
    const now = new Date('2026-11-22T00:00:00Z');
    const expected = evaluatePolicies(set, parseManifests(app, limits), options(now));
    expect(expected.evidence.failures.length).toBeGreaterThan(0);
    expect(expected.evidence.counts.pass).toBeGreaterThan(0);

    const manifests = new ManifestCache(1 << 20);
    const results = new PolicyResultCache();
    const first = evaluatePolicies(set, parseManifests(app, limits, manifests), options(now), results);
    expect(first).toEqual(expected);
    // A repeat, and the same documents in another order: served from the cache, positions of this request.
    const reordered = app.split('---\n').reverse().join('---\n');
    const again = evaluatePolicies(set, parseManifests(app, limits, manifests), options(now), results);
    expect(again).toEqual(expected);
    expect(evaluatePolicies(set, parseManifests(reordered, limits, manifests), options(now), results)).toEqual(
      evaluatePolicies(set, parseManifests(reordered, limits), options(now)),
    );
    expect(results.get(set, parseManifests(app, limits, manifests)[1]!.object)).toBeDefined();
  });

  it('keeps resource order when shared (cached) and unshared objects are mixed', async () => {
    const set = await load([path.resolve('policies')]);
    const now = new Date('2026-11-22T00:00:00Z');
    const manifests = new ManifestCache(1 << 20);
    const results = new PolicyResultCache();
    const shared = parseManifests(app, limits, manifests).map((m) => m.object);
    const fresh = parseManifests(app, limits).map((m) => m.object);
    const mixed = [fresh[1], shared[0], fresh[2], shared[1], fresh[0], shared[2]].map((object, index) => ({ index, object: object! }));
    const expected = evaluatePolicies(set, mixed, options(now));
    expect(expected.evidence.failures.map((f) => f.resource.document)).toEqual([...expected.evidence.failures.map((f) => f.resource.document)].sort((a, b) => a - b));
    expect(evaluatePolicies(set, mixed, options(now), results)).toEqual(expected);
    expect(evaluatePolicies(set, mixed, options(now), results)).toEqual(expected);
  });

  it('does not keep results that read the clock', async () => {
    const dir = policyDir(scratch, 'clock', clockPolicy);
    const set = await load([dir]);
    const manifests = new ManifestCache(1 << 20);
    const results = new PolicyResultCache();
    const doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n';
    const early = evaluatePolicies(set, parseManifests(doc, limits, manifests), options(new Date('2029-06-01T00:00:00Z')), results);
    expect(early.evidence.failures).toEqual([]);
    const late = evaluatePolicies(set, parseManifests(doc, limits, manifests), options(new Date('2031-06-01T00:00:00Z')), results);
    expect(late.evidence.failures.map((f) => f.message)).toEqual([expect.stringContaining('too late')]);
  });

  it('does not keep results of a set that calls random()', async () => {
    const dir = path.join(scratch, 'random');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'random.yaml'),
      `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: coin}
spec:
  rules:
    - name: heads
      assert:
        all:
          - check:
              (random('[ab]')): a
`,
    );
    const set = await load([dir]);
    const manifests = new ManifestCache(1 << 20);
    const results = new PolicyResultCache();
    const parsed = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n', limits, manifests);
    const outcomes = new Set<number>();
    for (let i = 0; i < 40; i++) outcomes.add(evaluatePolicies(set, parsed, options(new Date()), results).evidence.failures.length);
    expect(results.get(set, parsed[0]!.object)).toBeUndefined();
    expect(outcomes).toEqual(new Set([0, 1]));
  });

  it('starts afresh when the policy set changes', async () => {
    const strict = await load([path.resolve('policies')]);
    const none = { ...strict, policies: [], generation: strict.generation + 1 };
    const manifests = new ManifestCache(1 << 20);
    const results = new PolicyResultCache();
    const now = new Date('2026-11-22T00:00:00Z');
    expect(evaluatePolicies(strict, parseManifests(app, limits, manifests), options(now), results).evidence.failures.length).toBeGreaterThan(0);
    expect(evaluatePolicies(none, parseManifests(app, limits, manifests), options(now), results).evidence.failures).toEqual([]);
    expect(evaluatePolicies(strict, parseManifests(app, limits, manifests), options(now), results).evidence.failures.length).toBeGreaterThan(0);
  });

  it('keeps nothing for objects it did not freeze (a JSON array of manifests)', async () => {
    const set = await load([path.resolve('policies')]);
    const results = new PolicyResultCache();
    const manifests = parseManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }], limits);
    evaluatePolicies(set, manifests, options(new Date()), results);
    expect(results.get(set, manifests[0]!.object)).toBeUndefined();
  });
});

describe('findings on a plain Secret', () => {
  it('never quote its data: values are replaced, a short one withholds the message', async () => {
    const dir = policyDir(scratch, 'secret-values', `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: secret-values}
spec:
  rules:
    - name: known-password
      match: {any: [{kind: Secret}]}
      assert:
        all:
          - message: "the password {{ stringData.password }} is not the expected one"
            check:
              stringData: {password: expected}
          - check:
              data: {token: eHl6}
`);
    const set = await load([dir]);
    const secret = (password: string, token: string) =>
      parseManifests([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password }, data: { token: Buffer.from(token).toString('base64') } }], limits);
    const long = evaluatePolicies(set, secret('hunter2-long', 'sk-live-123456'), options(new Date()));
    const text = JSON.stringify(long);
    expect(long.evidence.failures.length).toBeGreaterThan(0);
    for (const value of ['hunter2-long', 'sk-live-123456', Buffer.from('sk-live-123456').toString('base64')]) expect(text).not.toContain(value);
    expect(text).toContain('[redacted]');
    const short = evaluatePolicies(set, secret('pw', 'abc'), options(new Date()));
    expect(short.evidence.failures.map((f) => f.message)).toEqual(expect.arrayContaining([expect.stringContaining('withheld')]));
    expect(JSON.stringify(short.reasons)).not.toMatch(/"pw"|: pw\b/);
  });
});

