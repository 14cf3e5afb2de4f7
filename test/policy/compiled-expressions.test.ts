/**
 * The compiled forms of JMESPath expressions (generated functions, closures) must agree with the
 * tree interpreter on every result and every error: `jmespath.search` runs the compiled form,
 * `jmespath.interpret` the interpreter.
 */
import { describe, expect, it } from 'vitest';
import { jmespath, type JsonValue } from '../../src/policy/index.js';
import { Bindings } from '../../src/policy/jmespath/bindings.js';
import { Budget } from '../../src/policy/jmespath/budget.js';

const data: JsonValue[] = [
  null,
  {},
  { a: 1, b: 'x', c: [1, 2, 3], d: { e: { f: 'deep' } }, n: null, t: true, f: false, s: '', arr: [], obj: {} },
  {
    kind: 'Pod',
    metadata: { name: 'p', labels: { 'app.kubernetes.io/name': 'x' }, annotations: { a: 'runtime/default' } },
    spec: {
      containers: [
        { name: 'a', image: 'nginx:latest', ports: [{ hostPort: 80 }, { containerPort: 1 }], securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN', 'CHOWN'] } } },
        { name: 'b', image: 'ghcr.io/x/y@sha256:0', securityContext: { runAsUser: 0 } },
      ],
      initContainers: null,
      volumes: [{ name: 'v', hostPath: { path: '/' } }, { name: 'w', emptyDir: {} }],
    },
  },
  [1, 'two', null, [3, [4]], { k: 'v' }],
  'a string',
  42,
  { constructor: 'own', toString: 1, __proto__: 'no' } as unknown as JsonValue,
];

const expressions = [
  '@', 'a', 'a.b', 'd.e.f', 'd.e.f.g', 'd.x.y', 'constructor', 'toString', 'hasOwnProperty', '__proto__', 'length',
  'c[0]', 'c[-1]', 'c[5]', 'c[-9]', 'c[*]', 'c[] ', 'c[:2]', "b[::-1]", '[0]', '[-1]', '[3][]', '[*].k', '*.f', 'd.*',
  'spec.containers[*].name', 'spec.containers[?securityContext.privileged].name', 'spec.containers[?!securityContext.privileged]',
  "[spec.containers, spec.initContainers, spec.ephemeralContainers][]", "spec.containers[].ports[].hostPort",
  'a || b', 'n || s || `"fallback"`', 'a && b', 'f && a', '!a', '!n', '!(spec.volumes)', 't == `true`', 'a == `1.0`', 'a != `1`',
  'c == `[1,2,3]`', 'd == `{"e":{"f":"deep"}}`', 'a > `0`', 'a >= b', 'a < `2`', 'b <= `1`',
  'a + `1`', 'a - b', 'a * `3`', 'a / `0`', 'a // `2`', 'a % `0`', '-a', '-b', '`7` % `3`',
  "contains(['x', 'y'], b)", "contains(['x', 'y'], c)", "contains(c, `2`)", "contains(b, 'x')", "contains(a, 'x')",
  "length(c)", "length(a)", "keys(d)", "starts_with(b, 'x')", "ends_with(spec.containers[0].image, ':latest')",
  "split(spec.containers[0].image, '/')[-1]", "join(', ', [b, 'y'])", "to_string(a)", "type(@)",
  "sort_by(spec.containers, &name)[*].name", "map(&a, [{a: `1`}, {a: `2`}])", "max_by(c || `[]`, &@)",
  "let $x = a in $x", "let $x = a, $y = b in [$x, $y]", "let $a = a, $b = $a in $b", "let $x = a in let $x = b in $x",
  "let $x = c in $x[:1]", "let $x = c in map(&to_string(@), $x)", "let $v = `5` in $v", "let $x = d in $x.e.f || $v.x", "$v", "$undefined", "{x: a, y: b}", "[a, b][1]",
  "a ? b : c", "items(d, 'k', 'v')", "lookup(d, 'e')", "not_a_function(a)", "items(@, 'k', 'v')[?starts_with(k, 'c')].k",
  "spec.containers[?contains(['a'], name)].image", "(spec.containers || `[]`)[0].name", "@[0]", "$",
];

function outcome(fn: () => JsonValue): { value?: JsonValue; error?: string } {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? 'thrown' };
  }
}

describe('compiled JMESPath agrees with the interpreter', () => {
  const bindings = Bindings.empty().with('v', { x: 1 });
  for (const expr of expressions) {
    it(expr, () => {
      for (const d of data) {
        const compiled = outcome(() => jmespath.search(expr, d, bindings, new Budget()));
        const interpreted = outcome(() => jmespath.interpret(expr, d, bindings, new Budget()));
        expect(compiled, `${expr} on ${JSON.stringify(d)}`).toEqual(interpreted);
      }
    });
  }

  it('charges the budget: runaway projections end in POLICY_BUDGET_EXCEEDED', () => {
    const big = { xs: Array.from({ length: 5000 }, (_, i) => ({ i, ys: Array.from({ length: 50 }, (_, j) => j) })) };
    const small = new Budget({ maxSteps: 10_000, maxDepth: 200 });
    expect(() => jmespath.search('xs[*].ys[*]', big, Bindings.empty(), small)).toThrow(expect.objectContaining({ code: 'POLICY_BUDGET_EXCEEDED' }));
  });

  it('property names are data, never code', () => {
    const evil = { 'a"]; throw new Error("x"); //': 1, "\u2028": 2 };
    expect(jmespath.search('"a\\"]; throw new Error(\\"x\\"); //"', evil)).toBe(1);
    expect(jmespath.search('"\u2028"', evil)).toBe(2);
  });
});
