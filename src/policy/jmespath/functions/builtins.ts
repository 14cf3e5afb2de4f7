/**
 * Replacements for JMESPath-community built-ins whose library behaviour differs from the
 * kyverno-json dialect (go-jmespath community):
 * - `contains`: deep equality on arrays; a string subject with a non-string search gives false;
 * - `sort`, `max`, `min`: numeric / code-point order (the library sorts numbers as strings and
 *   compares strings with the locale), no argument spreading (huge arrays);
 * - `to_number`: a string must be a decimal number (the library turns "" into 0);
 * - `to_string`: Go `encoding/json` text (sorted keys, HTML escapes).
 */
import type { FunctionDef, JsonValue } from '../types.js';
import { arg, def, T } from './util.js';
import { compareUtf8, goJson } from './gojson.js';
import { deepEqual } from '../../compare.js';

const DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function order(values: JsonValue[]): (a: JsonValue, b: JsonValue) => number {
  return typeof values[0] === 'string'
    ? (a, b) => compareUtf8(a as string, b as string)
    : (a, b) => (a as number) - (b as number);
}

function extreme(values: JsonValue[], sign: 1 | -1): JsonValue {
  if (values.length === 0) return null;
  const cmp = order(values);
  let best = values[0] as JsonValue;
  for (let i = 1; i < values.length; i++) {
    const v = values[i] as JsonValue;
    if (sign * cmp(v, best) > 0) best = v;
  }
  return best;
}

export function builtinOverrides(): FunctionDef[] {
  return [
    def('contains', [arg(T.array, T.string), arg(T.any)], ([subject, search]) => {
      if (Array.isArray(subject)) {
        for (let i = 0; i < subject.length; i++) if (deepEqual(subject[i] as JsonValue, search as JsonValue)) return true;
        return false;
      }
      return typeof search === 'string' && (subject as string).includes(search);
    }),
    def('sort', [arg(T.arrayString, T.arrayNumber)], ([values]) => [...(values as JsonValue[])].sort(order(values as JsonValue[]))),
    def('max', [arg(T.arrayNumber, T.arrayString)], ([values]) => extreme(values as JsonValue[], 1)),
    def('min', [arg(T.arrayNumber, T.arrayString)], ([values]) => extreme(values as JsonValue[], -1)),
    def('to_number', [arg(T.any)], ([v]) => {
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && DECIMAL.test(v.trim()) && v.trim() === v) {
        const n = Number(v);
        return Number.isFinite(n) ? n : null;
      }
      return null;
    }),
    def('to_string', [arg(T.any)], ([v]) => (typeof v === 'string' ? v : goJson(v))),
  ];
}
