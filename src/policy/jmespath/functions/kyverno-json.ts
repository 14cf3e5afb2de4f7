/** kyverno-json's own functions: at, concat, json_parse, wildcard. */
import type { FunctionDef, JsonValue } from '../types.js';
import { arg, def, fnError, T } from './util.js';
import { wildcardMatch } from './re2.js';

export function parseJsonText(name: string, text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw fnError(name, `invalid JSON: ${(err as Error).message}`);
  }
}

export function kyvernoJsonFunctions(): FunctionDef[] {
  return [
    def('at', [arg(T.array), arg(T.number)], ([array, index]) => {
      const a = array as JsonValue[];
      const i = index as number;
      if (!Number.isInteger(i) || i < 0 || i >= a.length) throw fnError('at', `index ${i} out of range [0, ${a.length})`);
      return a[i] as JsonValue;
    }),
    def('concat', [arg(T.string), arg(T.string)], ([a, b]) => (a as string) + (b as string)),
    def('json_parse', [arg(T.string)], ([s]) => parseJsonText('json_parse', s as string)),
    def('wildcard', [arg(T.string), arg(T.string)], ([pattern, name]) => wildcardMatch(pattern as string, name as string)),
  ];
}
