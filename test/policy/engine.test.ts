import { describe, expect, it } from 'vitest';
import { evaluate, parsePolicyDocuments } from '../../src/policy/index.js';
import { compactHeap } from '../../src/server/heap.js';
import { rulePolicy, run } from './helpers.js';

const pod = (name: string, image: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image }] } });

describe('engine: match / exclude', () => {
  const policy = rulePolicy(`
match:
  any:
  - kind: Pod
  - kind: Deployment
exclude:
  any:
  - metadata:
      name: skip-me
assert:
  all:
  - check:
      metadata:
        name: (@)
`);

  it('not matched and excluded resources are skip results', () => {
    const results = run(policy, [pod('a', 'x'), { kind: 'Service', metadata: { name: 's' } }, pod('skip-me', 'x')]);
    expect(results.map((r) => r.status)).toEqual(['pass', 'skip', 'skip']);
    expect(results[1]).toMatchObject({ resource: 1, resourceIndex: 1 });
  });

  it('includeSkipped: false drops them', () => {
    const results = evaluate(parsePolicyDocuments(policy), [pod('a', 'x'), { kind: 'Service' }], { includeSkipped: false });
    expect(results).toHaveLength(1);
  });

  it('any and all together use AND semantics (v0.0.3)', () => {
    const p = rulePolicy(`
match:
  any:
  - kind: Pod
  all:
  - x: 1
assert:
  all:
  - check:
      kind: Pod
`);
    expect(run(p, [{ kind: 'Pod', x: 2 }])[0]?.status).toBe('skip');
    expect(run(p, [{ kind: 'Pod', x: 1 }])[0]?.status).toBe('pass');
  });

  it('all-only match requires every item', () => {
    const p = rulePolicy(`
match:
  all:
  - kind: Pod
  - metadata:
      namespace: prod
assert:
  all:
  - check:
      kind: Pod
`);
    expect(run(p, [{ kind: 'Pod', metadata: { namespace: 'prod' } }, { kind: 'Pod', metadata: { namespace: 'dev' } }]).map((r) => r.status)).toEqual(['pass', 'skip']);
  });

  it('an error in match is an error result (fail closed), even if a later any-item matches', () => {
    const p = rulePolicy(`
match:
  any:
  - spec:
      x: 1
  - kind: Pod
assert:
  all:
  - check:
      kind: Pod
`);
    expect(run(p, [{ kind: 'Pod', spec: 'scalar' }])[0]?.status).toBe('error');
  });

  it('an error in exclude is an error result', () => {
    const p = rulePolicy(`
exclude:
  any:
  - (length(kind)): 3
assert:
  all:
  - check:
      kind: Pod
`);
    expect(run(p, [{ kind: 7 }])[0]?.status).toBe('error');
  });
});

describe('engine: assert any / all and messages', () => {
  it('any: first holding assertion wins; all is skipped when any fails', () => {
    const p = rulePolicy(`
assert:
  any:
  - message: not a
    check:
      v: a
  - message: not b
    check:
      v: b
  all:
  - message: bad w
    check:
      w: 1
`);
    const [ok, anyFail, allFail] = run(p, [{ v: 'b', w: 1 }, { v: 'c', w: 2 }, { v: 'a', w: 2 }]);
    expect(ok?.status).toBe('pass');
    expect(anyFail?.status).toBe('fail');
    expect(anyFail?.failures?.map((f) => f.message)).toEqual(['not a', 'not b']);
    expect(anyFail?.message).toBe('not a (CHECK=spec.rules[0].assert.any[0]); not b (CHECK=spec.rules[0].assert.any[1])');
    expect(allFail?.failures?.map((f) => f.check)).toEqual(['spec.rules[0].assert.all[0]']);
  });

  it('every all-assertion is evaluated and reported', () => {
    const p = rulePolicy(`
assert:
  all:
  - check:
      a: 1
  - check:
      b: 1
`);
    expect(run(p, [{ a: 0, b: 0 }])[0]?.failures).toHaveLength(2);
  });

  it('an error in any evaluated assertion makes the rule an error', () => {
    const p = rulePolicy(`
assert:
  all:
  - check:
      a: 1
  - check:
      b: "1"
`);
    const r = run(p, [{ a: 0, b: 1 }])[0];
    expect(r?.status).toBe('error');
    expect(r?.errorCode).toBe('POLICY_TYPE_MISMATCH');
  });

  it('message templates: strings, not found, not a string, errors; rule-level bindings only', () => {
    const p = rulePolicy(`
context:
- name: team
  variable: platform
assert:
  all:
  - message: "{{ name }}/{{ missing }}/{{ count }}/{{ length(count) }}/{{ $team }}/{{ to_string(count) }}"
    check:
      ok: true
`);
    const r = run(p, [{ name: 'web', count: 3, ok: false }])[0];
    expect(r?.failures?.[0]?.message).toBe(
      'web/ERR (missing not found)/ERR (count not a string)/ERR (length(count) - Invalid type: length() expected argument 1 to be type (string | array | object) but received type number instead.)/platform/3',
    );
  });

  it('message templates do not see tree bindings', () => {
    const p = rulePolicy(`
assert:
  all:
  - message: "{{ $x }}"
    check:
      a->x:
        b: 1
`);
    expect(run(p, [{ a: { b: 2 } }])[0]?.failures?.[0]?.message).toMatch(/^ERR \(\$x - undefined variable \$x\)$/);
  });
});

describe('engine: context, bindings, identifier, severity', () => {
  it('context entries are lazy, ordered, and may redefine a name', () => {
    const p = rulePolicy(`
context:
- name: tag
  variable: latest
- name: tag
  variable: (concat(':', $tag))
- name: broken
  variable: (length(\`5\`))
assert:
  all:
  - check:
      (ends_with(image, $tag)): false
`);
    expect(run(p, [{ image: 'nginx:latest' }, { image: 'nginx:1.2' }]).map((r) => r.status)).toEqual(['fail', 'pass']);
  });

  it('a referenced broken context entry is an error', () => {
    const p = rulePolicy(`
context:
- name: broken
  variable: (length(\`5\`))
assert:
  all:
  - check:
      a: ($broken)
`);
    expect(run(p, [{ a: 1 }])[0]?.status).toBe('error');
  });

  it('context maps and arrays are literals (not evaluated)', () => {
    const p = rulePolicy(`
context:
- name: m
  variable:
    a: ($x)
assert:
  all:
  - check:
      v: ($m.a)
`);
    expect(run(p, [{ v: '($x)' }])[0]?.status).toBe('pass');
  });

  it('context entries see the resource as @', () => {
    const p = rulePolicy(`
context:
- name: n
  variable: (metadata.name)
assert:
  all:
  - check:
      spec:
        owner: ($n)
`);
    expect(run(p, [{ metadata: { name: 'a' }, spec: { owner: 'a' } }])[0]?.status).toBe('pass');
  });

  it('external bindings, $payload, $policy and $rule', () => {
    const p = rulePolicy(`
assert:
  all:
  - check:
      ($registry): ghcr.io
      ($payload.kind): Pod
      ($rule.name): r
      ($policy.metadata.name): p
      ($policy.name): p
`);
    expect(run(p, [{ kind: 'Pod' }], { bindings: { registry: 'ghcr.io' } })[0]?.status).toBe('pass');
  });

  it('an undefined variable is an error', () => {
    const p = rulePolicy(`
assert:
  all:
  - check:
      a: ($nope)
`);
    expect(run(p, [{ a: 1 }])[0]?.message).toMatch(/undefined variable \$nope/);
  });

  it('identifier: string result, <nil>, error text, and index when absent', () => {
    const p = rulePolicy(`
identifier: metadata.name
assert:
  all:
  - check:
      kind: Pod
`);
    const results = run(p, [{ kind: 'Pod', metadata: { name: 'web' } }, { kind: 'Pod' }]);
    expect(results.map((r) => r.resource)).toEqual(['web', '<nil>']);
    const q = rulePolicy(`
identifier: length(kind)
assert:
  all:
  - check:
      kind: 1
`);
    expect(String(run(q, [{ kind: 1 }])[0]?.resource)).toMatch(/^\(error: /);
  });

  it('severity annotation is carried into results', () => {
    const text = rulePolicy('assert:\n  all:\n  - check:\n      a: 1').replace('  name: p\n', '  name: p\n  annotations:\n    policies.kyverno.io/severity: high\n');
    expect(run(text, [{ a: 1 }])[0]?.severity).toBe('high');
  });

  it('results are ordered resource -> policy -> rule and every rule is evaluated', () => {
    const text = `${rulePolicy('assert:\n  all:\n  - check:\n      a: 1', 'p1')}---\n${rulePolicy('assert:\n  all:\n  - check:\n      b: 1', 'p2')}`;
    const results = run(text, [{ a: 1, b: 0 }, { a: 0, b: 1 }]);
    expect(results.map((r) => `${r.resourceIndex}:${r.policy}:${r.status}`)).toEqual(['0:p1:pass', '0:p2:fail', '1:p1:fail', '1:p2:pass']);
  });

  it('time functions use the injected clock', () => {
    const p = rulePolicy(`
assert:
  all:
  - check:
      (time_now_utc()): '2024-01-02T03:04:05Z'
`);
    expect(run(p, [{}], { now: () => new Date('2024-01-02T03:04:05Z') })[0]?.status).toBe('pass');
  });
});

describe('engine: one policy list evaluated call after call', () => {
  // scopes are built once per (list, bindings) and kept between calls; nothing of one call may
  // reach the next: context entries, shared match blocks, bindings, the clock, errors
  const text = rulePolicy(`
match:
  any:
  - kind: Pod
context:
- name: own
  variable: (concat($prefix, metadata.name))
- name: held
  variable: ([$prefix, data])
- name: shared
  variable: (metadata.name)
- name: when
  variable: (time_now_utc())
assert:
  all:
  - check:
      ($own): (concat($prefix, $shared))
      (metadata.labels.expect): ($own)
      (metadata.labels.at): ($when)
      (length($held)): 2
`);
  const named = (name: string, expect: string, at = '2024-01-01T00:00:00Z') => ({ kind: 'Pod', metadata: { name, labels: { expect, at } } });
  const at = (iso: string) => () => new Date(iso);

  it('gives each call the answers a fresh list would', () => {
    const policies = parsePolicyDocuments(text);
    const bindings = { prefix: 'x-' };
    const calls: Array<[unknown[], string]> = [
      [[named('a', 'x-a')], '2024-01-01T00:00:00Z'],
      [[named('b', 'x-b'), { kind: 'Service' }, named('c', 'x-a')], '2024-01-01T00:00:00Z'],
      [[named('d', 'x-d', '2025-06-01T00:00:00Z')], '2025-06-01T00:00:00Z'],
      [[{ kind: 'Pod' }, named('e', 'x-e')], '2024-01-01T00:00:00Z'],
    ];
    for (const [resources, now] of calls) {
      const again = evaluate(policies, resources, { bindings, now: at(now) });
      const fresh = evaluate(parsePolicyDocuments(text), resources, { bindings, now: at(now) });
      expect(again).toEqual(fresh);
    }
    expect(evaluate(policies, [named('b', 'x-b'), named('c', 'x-a')], { bindings, now: at('2024-01-01T00:00:00Z') }).map((r) => r.status)).toEqual(['pass', 'fail']);
  });

  it('takes new bindings, and a list changed in place, into account', () => {
    const policies = parsePolicyDocuments(text);
    const x = { bindings: { prefix: 'x-' }, now: at('2024-01-01T00:00:00Z') };
    const y = { bindings: { prefix: 'y-' }, now: at('2024-01-01T00:00:00Z') };
    expect(evaluate(policies, [named('a', 'x-a')], x)[0]?.status).toBe('pass');
    expect(evaluate(policies, [named('a', 'x-a')], y)[0]?.status).toBe('fail');
    policies.push(...parsePolicyDocuments(rulePolicy('assert:\n  all:\n  - check:\n      ($prefix): z-', 'second')));
    expect(evaluate(policies, [named('a', 'y-a')], y).map((r) => `${r.policy}:${r.status}`)).toEqual(['p:pass', 'second:fail']);
    // the same bindings object, changed in place
    y.bindings.prefix = 'z-';
    expect(evaluate(policies, [named('a', 'z-a')], y).map((r) => `${r.policy}:${r.status}`)).toEqual(['p:pass', 'second:pass']);
  });

  it('keeps nothing of a call\'s resources once it returns', async () => {
    const policies = parsePolicyDocuments(text);
    const bindings = { prefix: 'x-' };
    let data: WeakRef<object> | undefined;
    (() => {
      const resource = { ...named('a', 'x-a'), data: { password: 'hunter2' } };
      data = new WeakRef(resource.data);
      expect(evaluate(policies, [resource], { bindings, now: at('2024-01-01T00:00:00Z') })[0]?.status).toBe('pass');
    })();
    await new Promise((r) => setTimeout(r, 10));
    expect(compactHeap()).toBe(true);
    expect(data?.deref()).toBeUndefined();
  });
});

describe('engine: runaway work is bounded', () => {
  it('a huge projection exhausts the step budget and reports an error', () => {
    const p = rulePolicy(`
assert:
  all:
  - check:
      (length(items[].a[].b)): 0
`);
    const items = Array.from({ length: 2000 }, () => ({ a: Array.from({ length: 100 }, () => ({ b: 1 })) }));
    const r = run(p, [{ items }], { limits: { maxSteps: 50_000 } })[0];
    expect(r?.status).toBe('error');
    expect(r?.errorCode).toBe('POLICY_BUDGET_EXCEEDED');
  });

  it('deep nesting in compared values exhausts the depth limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 500; i++) deep = { a: deep };
    const p = rulePolicy(`
assert:
  all:
  - check:
      x: ($payload.x)
`);
    const r = run(p, [{ x: deep }])[0];
    expect(r?.status).toBe('error');
    expect(r?.errorCode).toBe('POLICY_BUDGET_EXCEEDED');
  });

  it('one runaway rule does not affect the next resource', () => {
    const p = rulePolicy(`
assert:
  all:
  - check:
      (length(items[*])): 1
`);
    const big = { items: Array.from({ length: 100_000 }, (_, i) => i) };
    const results = run(p, [big, { items: [1] }], { limits: { maxSteps: 10_000 } });
    expect(results.map((r) => r.status)).toEqual(['error', 'pass']);
  });
});
