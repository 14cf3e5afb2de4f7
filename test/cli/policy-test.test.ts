/**
 * `syncgate policy test` end to end (the built CLI): the shipped library passes; a mismatch is
 * reported with policy, rule, resource, expected and actual, exit 1; an unusable test file is
 * exit 2 naming the file and field.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './run-cli.js';

const policy = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: no-latest}
spec:
  rules:
    - name: pin
      match: {any: [{kind: Pod}]}
      assert:
        all:
          - check:
              spec:
                ~.containers:
                  (ends_with(image, ':latest')): false
`;
const resources = `apiVersion: v1
kind: Pod
metadata: {name: good, namespace: a}
spec: {containers: [{image: 'nginx:1'}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: a}
spec: {containers: [{image: 'nginx:latest'}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: b}
spec: {containers: [{image: 'nginx:2'}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
`;
const testFile = (results: string) => `apiVersion: syncgate.dev/v1alpha1
kind: PolicyTest
metadata: {name: t}
policies: [policy.yaml]
resources: [tests/resources.yaml]
results:
${results}
`;

describe('syncgate policy test', () => {
  let dir: string;
  const suite = async (name: string, results: string, file = 'syncgate-test.yaml') => {
    const d = path.join(dir, name);
    await mkdir(path.join(d, 'tests'), { recursive: true });
    await writeFile(path.join(d, 'policy.yaml'), policy);
    await writeFile(path.join(d, 'tests', 'resources.yaml'), resources);
    await writeFile(path.join(d, file), testFile(results));
    return d;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'syncgate-policy-test-'));
  });

  it('the shipped library passes its own tests', async () => {
    const r = await runCli(['policy', 'test', path.join(REPO_ROOT, 'policies')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\d+ test file\(s\), \d+ checks, 0 mismatch\(es\)\n$/);
    expect(r.stdout).not.toContain('FAIL');
  });

  it('passes when every expectation holds (name, Kind/namespace/name, #index, rule omitted)', async () => {
    const d = await suite('ok', `  - {policy: no-latest, rule: pin, resources: [good, Pod/b/bad], result: pass}
  - {policy: no-latest, resources: [Pod/a/bad], result: fail}
  - {policy: no-latest, rule: pin, resource: "#3", result: skip}`);
    const r = await runCli(['policy', 'test', d, '--output', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toEqual({ testFiles: 1, checks: 4, mismatches: 0, unusable: 0 });
  });

  it('reports each mismatch and exits 1', async () => {
    const d = await suite('mismatch', `  - {policy: no-latest, rule: pin, resources: [good, Pod/a/bad], result: pass}
  - {policy: no-latest, rule: pin, resources: [cm], result: fail}`);
    const r = await runCli(['policy', 'test', d]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL');
    expect(r.stdout).toContain('MISMATCH POLICY=no-latest, RULE=pin, RESOURCE=Pod/a/bad: expected pass, got fail');
    expect(r.stdout).toContain('MISMATCH POLICY=no-latest, RULE=pin, RESOURCE=cm: expected fail, got skip');
    expect(r.stdout).toContain('-> (CHECK=spec.rules[0].assert.all[0])');
    expect(r.stdout).toContain('1 test file(s), 3 checks, 2 mismatch(es)');
  });

  it('finds *.test.yaml files too, and --verbose lists every check', async () => {
    const d = await suite('named', '  - {policy: no-latest, rule: pin, resources: [good], result: pass}', 'pods.test.yaml');
    const r = await runCli(['policy', 'test', d, '-v']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pods.test.yaml (t): 1 checks, 0 mismatches');
    expect(r.stdout).toContain('ok       POLICY=no-latest, RULE=pin, RESOURCE=good: expected pass, got pass');
  });

  it('exit 2 on unusable test files, naming the file and the field', async () => {
    const cases: [string, string, RegExp][] = [
      ['ambiguous', '  - {policy: no-latest, rule: pin, resources: [bad], result: fail}', /results\[0\]\.resources: resource "bad" is ambiguous/],
      ['unknown-resource', '  - {policy: no-latest, rule: pin, resources: [nope], result: fail}', /results\[0\]\.resources: no resource "nope"/],
      ['unknown-policy', '  - {policy: other, rule: pin, resources: [good], result: pass}', /results\[0\]\.policy: no policy "other"/],
      ['unknown-rule', '  - {policy: no-latest, rule: nope, resources: [good], result: pass}', /results\[0\]\.rule: policy "no-latest" has no rule "nope"/],
      ['bad-status', '  - {policy: no-latest, rule: pin, resources: [good], result: passed}', /results\[0\]\.result/],
      ['unknown-field', '  - {policy: no-latest, rule: pin, resources: [good], result: pass, kind: Pod}', /POLICY_TEST_INVALID/],
      ['contradiction', '  - {policy: no-latest, rule: pin, resources: [good], result: pass}\n  - {policy: no-latest, resources: [good], result: fail}', /expected both pass and fail/],
    ];
    for (const [name, results, pattern] of cases) {
      const d = await suite(name, results);
      const r = await runCli(['policy', 'test', d]);
      expect(r.code, name).toBe(2);
      expect(r.stdout, name).toContain(path.join(d, 'syncgate-test.yaml'));
      expect(r.stdout, name).toMatch(pattern);
    }
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    const r = await runCli(['policy', 'test', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('POLICY_TEST_NONE_FOUND');
  });

  it('a broken policy named by a test is exit 2 with the policy file and path', async () => {
    const d = await suite('broken-policy', '  - {policy: no-latest, rule: pin, resources: [good], result: pass}');
    await writeFile(path.join(d, 'policy.yaml'), policy.replace('assert:', 'asert:'));
    const r = await runCli(['policy', 'test', d]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/POLICY_INVALID: .*policy\.yaml \(document 0\) at spec\.rules\[0\]/);
  });
});
