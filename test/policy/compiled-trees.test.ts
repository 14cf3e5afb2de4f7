/**
 * Generated assertion-tree walks must agree with the closure walks on every result: status,
 * identifier, message, error code, and every violation (path, type, value, detail). Run over the
 * shipped library with its test resources, the corpus scan cases, and edge-case trees.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate, loadPolicies, parsePayload, parsePolicyDocuments, preprocess, toResources, type JsonValue, type LoadedPolicy } from '../../src/policy/index.js';
import { setTreeCodegen } from '../../src/policy/assertion/evaluate.js';
import { rulePolicy } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = path.resolve(root, '..', 'shared', 'corpus', 'kyverno-json', 'scan');

async function both(load: () => Promise<LoadedPolicy[]> | LoadedPolicy[], resources: unknown[], bindings: Record<string, unknown> = {}): Promise<void> {
  setTreeCodegen(true);
  const generated = evaluate(await load(), resources, { bindings, now: () => new Date('2026-01-01T00:00:00Z') });
  setTreeCodegen(false);
  const closures = evaluate(await load(), resources, { bindings, now: () => new Date('2026-01-01T00:00:00Z') });
  setTreeCodegen(true);
  expect(generated).toEqual(closures);
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(path.join(dir, e.name)) : e.name.endsWith('.yaml') ? [path.join(dir, e.name)] : []));
}

describe('generated tree walks agree with closure walks', () => {
  afterAll(() => setTreeCodegen(true));

  it('the shipped library on every test resource', async () => {
    const resources = yamlFiles(path.join(root, 'policies'))
      .filter((f) => f.includes(`${path.sep}tests${path.sep}`) && !f.endsWith('bindings.yaml'))
      .flatMap((f) => toResources(parsePayload(readFileSync(f, 'utf8'), f)));
    expect(resources.length).toBeGreaterThan(50);
    await both(() => loadPolicies([path.join(root, 'policies')]), resources);
  });

  it.skipIf(!existsSync(corpus))('the corpus scan cases', async () => {
    for (const c of readdirSync(corpus)) {
      const dir = path.join(corpus, c);
      const spec = JSON.parse(readFileSync(path.join(dir, 'case.json'), 'utf8')) as { policies: string[]; payload: string; preprocessors?: string[]; requires?: string[] };
      if (spec.requires?.includes('cel')) continue;
      const payloadFile = path.join(dir, spec.payload);
      const resources = toResources(preprocess(parsePayload(readFileSync(payloadFile, 'utf8'), payloadFile), spec.preprocessors ?? []));
      const bindingsFile = path.join(dir, 'bindings.yaml');
      const bindings = existsSync(bindingsFile) ? (parsePayload(readFileSync(bindingsFile, 'utf8'), bindingsFile) as Record<string, unknown>) : {};
      await both(() => loadPolicies(spec.policies.map((p) => path.join(dir, p))), resources, bindings);
    }
  });

  const trees: [string, JsonValue[]][] = [
    ['a: 1', [{ a: 1 }, { a: 1.0 }, { a: '1' }, { a: null }, {}, null, [1], 'x']],
    ['a: {}', [{ a: null }, { a: {} }, {}]],
    ['a: [1, {b: 2}]', [{ a: [1, { b: 2, c: 3 }] }, { a: [1] }, { a: null }, { a: 'x' }, { a: [1, { b: '2' }] }]],
    ['"~.a": {b: 1}', [{ a: [{ b: 1 }, { b: 2 }] }, { a: [] }, {}, { a: { x: { b: 1 }, y: { b: 3 } } }, { a: 5 }]],
    ['"~i.a->all": {"(at($all, $i).b == @.b)": true, b: "($i)"}', [{ a: [{ b: 0 }, { b: 2 }] }]],
    ['"(a.b)": 1', [{}, { a: { b: 1 } }, { a: { b: '1' } }]],
    ['"~.(a)": {b: 1}', [{}, { a: [{ b: 1 }] }]],
    ['"(length(a))": 0', [{ a: 5 }, { a: [] }, { a: 'xy' }]],
    ['a: ($m)', [{ a: { x: 1, y: 2 } }, { a: null }, { a: { x: 2 } }]],
    ['"\\\\(b)\\\\": 4', [{ '(b)': 4 }, { '(b)': 5 }]],
    ['"a->x": {"($x.c)": 3, c: "($x.c)"}', [{ a: { c: 3 } }, { a: { c: 4 } }]],
    ['spec: {containers: {name: x}}', [{ spec: { containers: [{ name: 'x' }] } }]],
    ['"(a / `0`)": 1', [{ a: 1 }]],
  ];
  for (const [tree, resources] of trees) {
    it(tree, async () => {
      const indented = tree.split('\n').map((l) => `        ${l}`).join('\n');
      const text = rulePolicy(`context:\n  - name: m\n    variable: {x: 1}\nassert:\n  all:\n  - message: "m {{ to_string(@) }}"\n    check:\n${indented}`);
      await both(() => parsePolicyDocuments(text, 't.yaml'), resources);
    });
  }
});
