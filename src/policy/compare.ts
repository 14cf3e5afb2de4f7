/**
 * Value comparison of assertion leaves, kyverno-json `matching.Match` / `Equal`:
 * - expected array: actual must be an array (else a type error); same length, element-wise, in order;
 * - expected map: actual must be a map (else a type error); subset: every expected key present and matching;
 * - otherwise: null == null; exactly one null is a mismatch; numbers by value (1 == 1.0);
 *   same-type strings/bools by equality; any other type pair is a type error (never a silent fail).
 */
import { PolicyErrorCode, PolicyEvalError } from './errors.js';
import type { Budget } from './jmespath/budget.js';
import { isObject, type JsonValue } from './jmespath/types.js';

export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'map';
  return typeof v;
}

function typeError(message: string): PolicyEvalError {
  return new PolicyEvalError(PolicyErrorCode.TYPE_MISMATCH, message);
}

/** `Match(expected, actual)`: true / false, or throws a TYPE_MISMATCH PolicyEvalError. */
export function match(expected: JsonValue, actual: JsonValue, budget: Budget, depth = 0): boolean {
  budget.charge();
  budget.checkDepth(depth);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw typeError(`invalid actual value, must be an array, found ${kindOf(actual)}`);
    if (expected.length !== actual.length) return false;
    for (let i = 0; i < expected.length; i++) {
      if (!match(expected[i] as JsonValue, actual[i] as JsonValue, budget, depth + 1)) return false;
    }
    return true;
  }
  if (isObject(expected)) {
    if (!isObject(actual)) throw typeError(`invalid actual value, must be a map, found ${kindOf(actual)}`);
    for (const key of Object.keys(expected)) {
      if (!Object.hasOwn(actual, key)) return false;
      if (!match(expected[key] as JsonValue, actual[key] as JsonValue, budget, depth + 1)) return false;
    }
    return true;
  }
  return equal(expected, actual);
}

/** `Equal` of a scalar expected value. */
export function equal(expected: JsonValue, actual: JsonValue): boolean {
  if (expected === null || actual === null) return expected === actual;
  const te = typeof expected;
  if (te === 'object' || typeof actual === 'object' || te !== typeof actual) {
    throw typeError(`types are not comparable: expected ${kindOf(expected)} ${describe(expected)}, got ${kindOf(actual)}`);
  }
  return expected === actual;
}

function describe(v: JsonValue): string {
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** JMESPath deep equality (`==`, `contains`). */
export function deepEqual(a: JsonValue, b: JsonValue, depth = 0): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (depth > 1000) throw new RangeError('value nested too deeply');
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i] as JsonValue, b[i] as JsonValue, depth + 1)) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) {
      if (!Object.hasOwn(b, k) || !deepEqual(a[k] as JsonValue, b[k] as JsonValue, depth + 1)) return false;
    }
    return true;
  }
  return false;
}
