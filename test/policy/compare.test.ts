import { describe, expect, it } from 'vitest';
import { deepEqual, equal, match } from '../../src/policy/compare.js';
import { Budget } from '../../src/policy/jmespath/budget.js';
import { PolicyEvalError } from '../../src/policy/errors.js';

const b = () => new Budget();

describe('match (expected, actual)', () => {
  it('numbers compare by value', () => {
    expect(match(1, 1.0, b())).toBe(true);
    expect(match(1, 2, b())).toBe(false);
  });

  it('null handling: both null equal, one null is a mismatch (not an error)', () => {
    expect(match(null, null, b())).toBe(true);
    expect(match(1, null, b())).toBe(false);
    expect(match(null, 'x', b())).toBe(false);
  });

  it('type mismatches are errors', () => {
    expect(() => match('1', 1, b())).toThrow(PolicyEvalError);
    expect(() => match(true, 'true', b())).toThrow(/not comparable/);
    expect(() => match('x', { a: 1 }, b())).toThrow(/not comparable/);
    expect(() => match(1, [1], b())).toThrow(/not comparable/);
    expect(() => equal('a', 1)).toThrow();
  });

  it('maps: subset semantics; actual must be a map', () => {
    expect(match({ x: 1 }, { x: 1, y: 2 }, b())).toBe(true);
    expect(match({ x: 1, z: 1 }, { x: 1 }, b())).toBe(false);
    expect(() => match({ x: 1 }, null, b())).toThrow(/must be a map/);
    expect(() => match({ x: 1 }, [1], b())).toThrow(/must be a map/);
  });

  it('arrays: exact length and order; actual must be an array', () => {
    expect(match([1, 2], [1, 2], b())).toBe(true);
    expect(match([1, 2], [2, 1], b())).toBe(false);
    expect(match([1], [1, 2], b())).toBe(false);
    expect(match([{ a: 1 }], [{ a: 1, b: 2 }], b())).toBe(true);
    expect(() => match([1], 'x', b())).toThrow(/must be an array/);
  });

  it('strings are case-sensitive and have no wildcard semantics', () => {
    expect(match('?*', 'x', b())).toBe(false);
    expect(match('A', 'a', b())).toBe(false);
  });

  it('deep comparisons are bounded by the depth budget', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(() => match(deep as never, deep as never, b())).toThrow(/depth/);
  });

  it('deepEqual is JMESPath equality', () => {
    expect(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(deepEqual([1], [1, 2])).toBe(false);
  });
});
