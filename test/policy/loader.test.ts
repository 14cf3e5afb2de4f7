import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadPolicies, parsePolicyDocuments, PolicyLoadError } from '../../src/policy/index.js';
import { rulePolicy } from './helpers.js';

function loadError(text: string): PolicyLoadError {
  try {
    parsePolicyDocuments(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect(err).toBeInstanceOf(InputError);
    return err as PolicyLoadError;
  }
  throw new Error('expected a load error');
}

const ok = rulePolicy('assert:\n  all:\n  - check:\n      a: 1');

describe('policy loading', () => {
  it('loads a valid policy and compiles its rules', () => {
    const [p] = parsePolicyDocuments(ok, 'p.yaml');
    expect(p).toMatchObject({ name: 'p', file: 'p.yaml', document: 0 });
    expect(p?.rules.map((r) => r.name)).toEqual(['r']);
  });

  it('an empty file or empty documents give no policies', () => {
    expect(parsePolicyDocuments('', 'e.yaml')).toEqual([]);
    expect(parsePolicyDocuments('---\n---\n', 'e.yaml')).toEqual([]);
  });

  it('rules: [] loads', () => {
    expect(parsePolicyDocuments('apiVersion: json.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata: {name: x}\nspec:\n  rules: []\n')[0]?.rules).toEqual([]);
  });

  it('YAML syntax errors: POLICY_PARSE_ERROR with file and line', () => {
    const err = loadError('a: [1,\nb: }');
    expect(err.code).toBe('POLICY_PARSE_ERROR');
    expect(err.location?.file).toBe('p.yaml');
    expect(err.location?.line).toBeGreaterThan(0);
  });

  it('other kinds are rejected', () => {
    const err = loadError('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    expect(err.code).toBe('POLICY_INVALID');
    expect(err.message).toMatch(/policy type not supported/);
  });

  it('unknown fields are rejected with the field path and document index', () => {
    const err = loadError(`${ok}---\n${rulePolicy('matches:\n  any:\n  - kind: Pod\nassert:\n  all:\n  - check:\n      a: 1')}`);
    expect(err.code).toBe('POLICY_INVALID');
    expect(err.location).toMatchObject({ file: 'p.yaml', document: 1, path: 'spec.rules[0]' });
    expect(err.message).toMatch(/p\.yaml \(document 1\).*matches/);
  });

  it('required fields: spec, rules, rule name, assert, check', () => {
    const head = 'apiVersion: json.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata: {name: x}\n';
    expect(loadError(head).location?.path).toBe('spec');
    expect(loadError(`${head}spec: {}\n`).location?.path).toBe('spec.rules');
    expect(loadError(`${head}spec:\n  rules:\n  - assert: {all: [{check: {a: 1}}]}\n`).location?.path).toBe('spec.rules[0].name');
    expect(loadError(`${head}spec:\n  rules:\n  - name: r\n`).location?.path).toBe('spec.rules[0].assert');
    expect(loadError(`${head}spec:\n  rules:\n  - name: r\n    assert: {all: [{message: m}]}\n`).location?.path).toBe('spec.rules[0].assert.all[0].check');
  });

  it('compiler must be jp or cel; cel is unsupported for now', () => {
    expect(loadError(rulePolicy('compiler: js\nassert:\n  all:\n  - check:\n      a: 1')).code).toBe('POLICY_INVALID');
    const err = loadError(rulePolicy('compiler: cel\nassert:\n  all:\n  - check:\n      (object.a): 1'));
    expect(err.code).toBe('POLICY_UNSUPPORTED');
    expect(err.location?.path).toBe('spec.rules[0].assert.all[0].check.(object.a)');
  });

  it('compiler: cel with only literal values and (jp;…) keys loads', () => {
    expect(parsePolicyDocuments(rulePolicy('compiler: cel\nassert:\n  all:\n  - check:\n      (jp;a): 1\n      b: 2'))).toHaveLength(1);
  });

  it('empty match / exclude / assert are rejected', () => {
    expect(loadError(rulePolicy('match: {}\nassert:\n  all:\n  - check:\n      a: 1')).location?.path).toBe('spec.rules[0].match');
    expect(loadError(rulePolicy('exclude: {any: []}\nassert:\n  all:\n  - check:\n      a: 1')).location?.path).toBe('spec.rules[0].exclude');
    expect(loadError(rulePolicy('assert: {}')).location?.path).toBe('spec.rules[0].assert');
  });

  it('invalid JMESPath is rejected at load, naming the key', () => {
    const err = loadError(rulePolicy('assert:\n  all:\n  - check:\n      spec:\n        (a) || (b): 1'));
    expect(err.location?.path).toBe('spec.rules[0].assert.all[0].check.spec.(a) || (b)');
    expect(err.message).toMatch(/invalid JMESPath expression "a\) \|\| \(b"/);
    expect(loadError(rulePolicy('identifier: "a["\nassert:\n  all:\n  - check:\n      a: 1')).location?.path).toBe('spec.rules[0].identifier');
    expect(loadError(rulePolicy('context:\n- name: x\n  variable: (a[)\nassert:\n  all:\n  - check:\n      a: 1')).location?.path).toBe('spec.rules[0].context[0].variable');
    expect(loadError(rulePolicy('assert:\n  all:\n  - message: "{{ a[ }}"\n    check:\n      a: 1')).location?.path).toBe('spec.rules[0].assert.all[0].message');
  });

  it('foreach and binding modifiers in scalar values are rejected', () => {
    expect(loadError(rulePolicy('assert:\n  all:\n  - check:\n      a: ~.b')).message).toMatch(/foreach is not supported/);
    expect(loadError(rulePolicy('assert:\n  all:\n  - check:\n      a: b->c')).message).toMatch(/binding is not supported/);
    expect(loadError(rulePolicy('context:\n- name: x\n  variable: (a)->b\nassert:\n  all:\n  - check:\n      a: 1')).message).toMatch(/binding is not supported/);
  });

  it('an unknown compiler prefix is rejected (upstream silently treats it as a plain key)', () => {
    expect(loadError(rulePolicy('assert:\n  all:\n  - check:\n      (foo;bar): 1')).message).toMatch(/unknown expression compiler "foo"/);
  });

  it('rule names longer than 63 characters are rejected', () => {
    expect(loadError(ok.replace('name: r', `name: ${'x'.repeat(64)}`)).location?.path).toBe('spec.rules[0].name');
  });

  describe('files and directories', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'syncgate-policies-'));
      await mkdir(path.join(dir, 'b', 'nested'), { recursive: true });
      await writeFile(path.join(dir, 'a.yaml'), ok.replace('name: p', 'name: a'));
      await writeFile(path.join(dir, 'b', 'nested', 'c.yml'), ok.replace('name: p', 'name: c'));
      await writeFile(path.join(dir, 'b', 'd.yaml'), `${ok.replace('name: p', 'name: d1')}---\n${ok.replace('name: p', 'name: d2')}`);
      await writeFile(path.join(dir, 'b', 'ignored.json'), '{"not": "a policy"}');
      await writeFile(path.join(dir, 'README.md'), '# not a policy');
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('walks directories recursively in sorted order, reading only .yaml/.yml', async () => {
      const loaded = await loadPolicies([dir]);
      expect(loaded.map((p) => p.name)).toEqual(['a', 'd1', 'd2', 'c']);
      expect(loaded[2]).toMatchObject({ file: path.join(dir, 'b', 'd.yaml'), document: 1 });
    });

    it('explicit files are read whatever their extension', async () => {
      await expect(loadPolicies([path.join(dir, 'b', 'ignored.json')])).rejects.toMatchObject({ code: 'POLICY_INVALID' });
    });

    it('a missing path is a POLICY_READ_ERROR', async () => {
      await expect(loadPolicies([path.join(dir, 'nope.yaml')])).rejects.toMatchObject({ code: 'POLICY_READ_ERROR' });
    });
  });
});
