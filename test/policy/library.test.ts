/**
 * The shipped library's conventions and the engine features it relies on: loader skips test
 * material, policy default bindings (shadowed by external ones), per-resource sharing of match
 * blocks and context entries that never leaks between resources or hides errors, and every rule
 * of every shipped policy covered by a passing and a failing test resource.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluate, loadPolicies, parsePolicyDocuments, PolicyLoadError } from '../../src/policy/index.js';
import { findTestFiles, loadTestFile, runPolicyTest } from '../../src/policy/testing.js';
import { documentStartLines } from '../../src/policy/report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const policy = (name: string, extra = '') => `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: ${name}
${extra}spec:
  rules:
    - name: r
      assert: {all: [{check: {a: 1}}]}
`;

describe('loader: test material beside policies is never loaded', () => {
  it('skips tests/ directories, syncgate-test.yaml and *.test.yaml when walking', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-lib-'));
    await mkdir(path.join(dir, 'p', 'tests'), { recursive: true });
    await writeFile(path.join(dir, 'p', 'policy.yaml'), policy('kept'));
    await writeFile(path.join(dir, 'p', 'tests', 'resources.yaml'), 'apiVersion: v1\nkind: Pod\n');
    await writeFile(path.join(dir, 'p', 'syncgate-test.yaml'), 'apiVersion: syncgate.dev/v1alpha1\nkind: PolicyTest\n');
    await writeFile(path.join(dir, 'p', 'more.test.yaml'), 'kind: PolicyTest\n');
    await writeFile(path.join(dir, 'p', 'Other.Test.YML'), 'kind: PolicyTest\n');
    expect((await loadPolicies([dir])).map((p) => p.name)).toEqual(['kept']);
    // a file named explicitly is always read
    await expect(loadPolicies([path.join(dir, 'p', 'tests', 'resources.yaml')])).rejects.toBeInstanceOf(PolicyLoadError);
  });

  it('loads the whole shipped library', async () => {
    const names = (await loadPolicies([path.join(root, 'policies')])).map((p) => p.name).sort();
    expect(names).toEqual([
      'allowed-registries', 'disallow-latest-tag', 'no-cluster-admin-bindings', 'no-host-access', 'no-plaintext-secrets',
      'pss-baseline', 'pss-restricted', 'recommended-labels', 'require-labels', 'require-namespace', 'require-resources',
    ]);
  });
});

describe('every shipped policy', async () => {
  const library = await loadPolicies([path.join(root, 'policies')]);
  it('has a severity and a mode annotation', () => {
    for (const p of library) {
      expect(['low', 'medium', 'high'], p.name).toContain(p.annotations['policies.kyverno.io/severity']);
      expect(['enforce', 'audit'], p.name).toContain(p.annotations['syncgate.dev/mode']);
    }
  });

  it('has every rule tested with at least one pass and one fail, and all tests pass', async () => {
    const seen = new Map<string, Set<string>>();
    for (const file of await findTestFiles(path.join(root, 'policies'))) {
      const report = await runPolicyTest(await loadTestFile(file));
      expect(report.mismatches, file).toEqual([]);
      for (const c of report.checks) {
        const key = `${c.policy}/${c.rule}`;
        seen.set(key, (seen.get(key) ?? new Set()).add(c.expected));
      }
    }
    for (const p of library) {
      for (const r of p.rules) {
        const statuses = seen.get(`${p.name}/${r.name}`) ?? new Set();
        // a rule that fails whatever it matches (no-plaintext-secrets) shows its other side as skip
        expect(statuses.has('fail'), `${p.name}/${r.name} has a failing case`).toBe(true);
        expect(statuses.has('pass') || statuses.has('skip'), `${p.name}/${r.name} has a passing case`).toBe(true);
      }
    }
  });
});

describe('policy default bindings (syncgate.dev/default-bindings)', () => {
  const withDefaults = policy(
    'd',
    `  annotations:
    syncgate.dev/default-bindings: |
      want: 1
`,
  ).replace('check: {a: 1}', 'check: {a: ($want)}');

  it('apply when no external binding is given, and external bindings shadow them', () => {
    const p = parsePolicyDocuments(withDefaults, 'd.yaml');
    expect(p[0]?.defaultBindings).toEqual({ want: 1 });
    expect(evaluate(p, [{ a: 1 }])[0]?.status).toBe('pass');
    expect(evaluate(p, [{ a: 1 }], { bindings: { want: 2 } })[0]?.status).toBe('fail');
    expect(evaluate(p, [{ a: 2 }], { bindings: { want: 2 } })[0]?.status).toBe('pass');
  });

  it('must be a YAML/JSON mapping (load error naming the annotation)', () => {
    const bad = withDefaults.replace('want: 1', '- not a mapping');
    expect(() => parsePolicyDocuments(bad, 'd.yaml')).toThrow(/d\.yaml \(document 0\) at metadata\.annotations\.syncgate\.dev\/default-bindings: must be a YAML\/JSON mapping/);
  });

  it('another policy without defaults does not see them', () => {
    const other = policy('o').replace('check: {a: 1}', 'check: {a: ($want)}');
    const results = evaluate([...parsePolicyDocuments(withDefaults, 'd.yaml'), ...parsePolicyDocuments(other, 'o.yaml')], [{ a: 1 }]);
    expect(results.map((r) => r.status)).toEqual(['pass', 'error']);
    expect(results[1]?.message).toContain('undefined variable $want');
  });
});

describe('per-resource sharing of match blocks and context entries', () => {
  const shared = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: s}
spec:
  rules:
    - name: first
      match: {any: [{kind: Pod}, {kind: Job}]}
      context:
        - {name: spec, variable: (spec.template.spec || spec)}
        - {name: n, variable: (length($spec.containers))}
      assert: {all: [{check: {($n): 1}}]}
    - name: second
      match: {any: [{kind: Pod}, {kind: Job}]}
      context:
        - {name: spec, variable: (spec.template.spec || spec)}
        - {name: n, variable: (length($spec.containers))}
      assert: {all: [{check: {($n): 2}}]}
`;
  it('values follow each resource; errors are reported by every rule that reads them', () => {
    const p = parsePolicyDocuments(shared, 's.yaml');
    expect(p[0]?.rules[0]?.match?.memo).toBe(p[0]?.rules[1]?.match?.memo);
    expect(p[0]?.rules[0]?.context[1]?.memo).toBe(p[0]?.rules[1]?.context[1]?.memo);
    const results = evaluate(p, [
      { kind: 'Pod', spec: { containers: [1] } },
      { kind: 'Service' },
      { kind: 'Job', spec: { template: { spec: { containers: [1, 2] } } } },
      { kind: 'Pod', spec: { containers: 'not-an-array' } },
      { kind: 'Pod', spec: { containers: [1] } },
    ]);
    expect(results.map((r) => `${r.resourceIndex}:${r.rule}:${r.status}`)).toEqual([
      '0:first:pass', '0:second:fail',
      '1:first:skip', '1:second:skip',
      '2:first:fail', '2:second:pass',
      '3:first:fail', '3:second:fail', // length('not-an-array') is 12
      '4:first:pass', '4:second:fail',
    ]);
  });

  it('an entry that reads an external binding is not shared (its value can differ per policy)', () => {
    const text = shared.replaceAll('(length($spec.containers))', '(length($spec.containers) + $extra)');
    const p = parsePolicyDocuments(text, 's.yaml');
    expect(p[0]?.rules[0]?.context[1]?.memo).toBeUndefined();
    expect(evaluate(p, [{ kind: 'Pod', spec: { containers: [1] } }], { bindings: { extra: 1 } }).map((r) => r.status)).toEqual(['fail', 'pass']);
  });

  it('a context error surfaces in every rule that reads the entry', () => {
    const text = shared.replace(/\(length\(\$spec\.containers\)\)/g, '(length(`5`))');
    const results = evaluate(parsePolicyDocuments(text, 's.yaml'), [{ kind: 'Pod', spec: {} }]);
    expect(results.map((r) => r.status)).toEqual(['error', 'error']);
  });
});

describe('report helpers', () => {
  it('documentStartLines finds the first content line of each document', () => {
    const text = '# head\napiVersion: v1\nkind: A\n---\n\n# c\nkind: B\n--- # x\n---\nkind: C\n';
    expect(documentStartLines(text, 3)).toEqual([2, 7, 10]);
    expect(documentStartLines(text, 4)).toBeUndefined();
  });
});
