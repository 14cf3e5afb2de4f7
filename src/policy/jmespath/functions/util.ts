import { PolicyErrorCode, PolicyEvalError } from '../../errors.js';
import {
  TYPE_ANY,
  TYPE_ARRAY,
  TYPE_NUMBER,
  TYPE_OBJECT,
  TYPE_STRING,
  TYPE_BOOLEAN,
  TYPE_EXPREF,
  TYPE_ARRAY_STRING,
  TYPE_ARRAY_NUMBER,
  TYPE_ARRAY_ARRAY,
} from '@jmespath-community/jmespath';
import type { FunctionDef, InputSignature, JsonValue } from '../types.js';

export const T = {
  any: TYPE_ANY,
  array: TYPE_ARRAY,
  number: TYPE_NUMBER,
  object: TYPE_OBJECT,
  string: TYPE_STRING,
  boolean: TYPE_BOOLEAN,
  expref: TYPE_EXPREF,
  arrayString: TYPE_ARRAY_STRING,
  arrayNumber: TYPE_ARRAY_NUMBER,
  arrayArray: TYPE_ARRAY_ARRAY,
} as const;

/** Argument signature helper: `arg(T.string)`, `arg(T.number, { optional: true })`. */
export function arg(...types: number[]): InputSignature {
  return { types };
}

export function def(name: string, signature: InputSignature[], fn: (args: JsonValue[]) => JsonValue): FunctionDef {
  return { name, signature, fn };
}

/** An evaluation error raised by a function (becomes a rule `error`). */
export function fnError(name: string, message: string): PolicyEvalError {
  return new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, `${name}(): ${message}`);
}

export function str(v: JsonValue): string {
  return v as string;
}
export function num(v: JsonValue): number {
  return v as number;
}

/** `fmt.Sprint` of a float64 (`%v`), the way Kyverno turns numbers into strings. */
export function goNumberString(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return '0';
  const [mant = '0', e = '0'] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 21) {
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${mant}e${exp < 0 ? '-' : '+'}${digits}`;
  }
  return String(n);
}

/** Splits a string into code points (Go iterates runes). */
export function codePoints(s: string): string[] {
  return Array.from(s);
}
