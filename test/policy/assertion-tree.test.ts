import { describe, expect, it } from 'vitest';
import { check } from './helpers.js';

const status = (c: string, r: unknown, bindings?: Record<string, unknown>) => check(c, r, bindings ? { bindings } : {}).status;

describe('assertion trees: spec edge cases (§10)', () => {
  it.each([
    ['a: 1', { a: 1.0 }, 'pass'],
    ['a: "1"', { a: 1 }, 'error'],
    ['a: null', {}, 'fail'],
    ['a: null', { a: null }, 'pass'],
    ['a: 1', { a: null }, 'fail'],
    ['a: {}', { a: null }, 'fail'],
    ['a: {}', { a: 'x' }, 'pass'],
    ['a:\n  b: 1', { a: [{ b: 1 }] }, 'error'],
    ['~.a:\n  b: 1', { a: [{ b: 1 }, { b: 2 }] }, 'fail'],
    ['~.a:\n  b: 1', { a: [] }, 'pass'],
    ['~.a:\n  b: 1', {}, 'fail'],
    ['~.(a):\n  b: 1', {}, 'error'],
    ['a: [1, 2]', { a: [2, 1] }, 'fail'],
    ['a: [1]', { a: [1, 2] }, 'fail'],
    ['a: [1]', { a: null }, 'fail'],
    ['a: [1]', { a: 'x' }, 'error'],
    ['(a.b): 1', {}, 'fail'],
    ['a: "?*"', { a: 'x' }, 'fail'],
    ['(length(a)): 0', { a: 5 }, 'error'],
  ])('%s on %j -> %s', (c, r, want) => {
    expect(status(c, r)).toBe(want);
  });

  it('expected map from a binding: subset pass, null actual is an error', () => {
    expect(status('a: ($m)', { a: { x: 1, y: 2 } }, { m: { x: 1 } })).toBe('pass');
    expect(status('a: ($m)', { a: null }, { m: { x: 1 } })).toBe('error');
  });

  it('violation paths and details', () => {
    const r = check('spec:\n  ~.containers:\n    image:\n      (ends_with(@, \':latest\')): false', {
      spec: { containers: [{ image: 'a:1' }, { image: 'b:latest' }] },
    });
    expect(r.status).toBe('fail');
    expect(r.failures?.[0]?.violations).toEqual([
      { path: "spec.~.containers[1].image.(ends_with(@, ':latest'))", type: 'Invalid', value: true, detail: 'Expected value: false' },
    ]);
  });

  it('violations are collected exhaustively', () => {
    const r = check('a: 1\nb: 2\nc: 3', { a: 0, b: 0 });
    expect(r.failures?.[0]?.violations.map((v) => v.path)).toEqual(['a', 'b', 'c']);
  });

  it('expression keys see @ = current value and always count as found', () => {
    expect(status('foo:\n  (bar > `3`): true\n  (!baz): false\n  (bar + bat): 10', { foo: { bar: 4, baz: true, bat: 6 } })).toBe('pass');
    expect(status('(missing): null', {})).toBe('pass');
  });

  it('leaf expressions evaluate with @ = the current value', () => {
    expect(status('name: (to_upper(@) == @ && `false` || @)', { name: 'abc' })).toBe('pass');
    expect(status('image: (ends_with(@, \':latest\'))', { image: 'x:latest' })).toBe('error');
  });

  it('foreach binds the index (arrays) or the key (maps)', () => {
    expect(status('~i.items:\n  idx: ($i)', { items: [{ idx: 0 }, { idx: 1 }] })).toBe('pass');
    expect(status('~i.items:\n  idx: ($i)', { items: [{ idx: 1 }, { idx: 0 }] })).toBe('fail');
    expect(status('~k.labels:\n  (starts_with($k, \'app\')): true', { labels: { app: 'x', 'app.kubernetes.io/name': 'y' } })).toBe('pass');
    const r = check('~k.labels:\n  (starts_with($k, \'app\')): true', { labels: { app: 'x', team: 'y' } });
    expect(r.failures?.[0]?.violations[0]?.path).toBe("~k.labels[team].(starts_with($k, 'app'))");
  });

  it('foreach over a scalar is an error', () => {
    expect(status('~.a:\n  b: 1', { a: 'x' })).toBe('error');
  });

  it('-> binds the projected value (whole array with foreach) for descendants', () => {
    const c = 'spec:\n  ~foo.containers->foos:\n    (at($foos, $foo).image)->img:\n      (ends_with($img, \':latest\')): false';
    expect(status(c, { spec: { containers: [{ image: 'a:1' }, { image: 'b:2' }] } })).toBe('pass');
    expect(status(c, { spec: { containers: [{ image: 'a:1' }, { image: 'b:latest' }] } })).toBe('fail');
  });

  it('tree bindings are scoped to descendants, not siblings', () => {
    const r = check('a->x:\n  b: 1\n(c):\n  ($x): 1', { a: { b: 1 }, c: {} });
    expect(r.status).toBe('error');
    expect(r.message).toMatch(/undefined variable \$x/);
  });

  it('bindings shadow outer names, including $payload', () => {
    expect(status('a->payload:\n  ($payload): 5', { a: 5 })).toBe('pass');
  });

  it('escaped keys look up literal keys', () => {
    const r = { foo: { '(bar)': 4, '(bar)->test': 6, '~foos': [1, 2, 3] } };
    expect(status('foo:\n  \\(bar)\\: 4', r)).toBe('pass');
    expect(status('foo:\n  \\(bar)\\->test:\n    ($test): 4', r)).toBe('pass');
    expect(status('foo:\n  \\(bar)->test\\: 6', r)).toBe('pass');
    expect(status('foo:\n  \\~foos\\: [1, 2, 3]', r)).toBe('pass');
  });

  it('escaped leaf strings are literals', () => {
    expect(status('a: \\(x)\\', { a: '(x)' })).toBe('pass');
    expect(status('a: \\a->b\\', { a: 'a->b' })).toBe('pass');
  });

  it('array nodes assert element-wise with subset maps', () => {
    expect(status('a:\n- x: 1\n- x: 2', { a: [{ x: 1, y: 0 }, { x: 2 }] })).toBe('pass');
    expect(status('a:\n- x: 1\n- x: 2', { a: [{ x: 1 }, { x: 3 }] })).toBe('fail');
  });

  it('plain key lookup on a scalar is an error, not a fail', () => {
    expect(status('a:\n  b: 1', { a: 'str' })).toBe('error');
  });

  it('$ (root) is null, as upstream; use $payload', () => {
    expect(status('($.a): null\n($payload.a): 1', { a: 1 })).toBe('pass');
  });
});
