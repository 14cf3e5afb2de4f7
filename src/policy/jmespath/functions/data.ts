/** Kyverno data functions: parse_json, parse_yaml, items, lookup, label_match, object_from_lists, to_boolean. */
import type { FunctionDef, JsonObject, JsonValue } from '../types.js';
import { isObject } from '../types.js';
import { arg, def, fnError, T } from './util.js';
import { compareUtf8, goSprint } from './gojson.js';
import { parseJsonText } from './kyverno-json.js';
import { loadYaml, toJsonValue } from '../../yaml.js';

export function dataFunctions(): FunctionDef[] {
  return [
    def('parse_json', [arg(T.string)], ([s]) => parseJsonText('parse_json', s as string)),
    def('parse_yaml', [arg(T.string)], ([s]) => {
      try {
        return toJsonValue(loadYaml(s as string));
      } catch (err) {
        throw fnError('parse_yaml', (err as Error).message);
      }
    }),
    def('items', [arg(T.object, T.array), arg(T.string), arg(T.string)], ([input, keyName, valName]) => {
      const k = keyName as string;
      const v = valName as string;
      if (Array.isArray(input)) return input.map((e, i) => ({ [k]: i, [v]: e }) as JsonObject);
      const obj = input as JsonObject;
      return Object.keys(obj)
        .sort(compareUtf8)
        .map((key) => ({ [k]: key, [v]: obj[key] as JsonValue }) as JsonObject);
    }),
    def('lookup', [arg(T.object, T.array), arg(T.string, T.number)], ([collection, key]) => {
      if (Array.isArray(collection)) {
        if (typeof key !== 'number') throw fnError('lookup', 'an array must be indexed by a number');
        if (!Number.isInteger(key)) throw fnError('lookup', 'index must be an integer');
        return key >= 0 && key < collection.length ? (collection[key] as JsonValue) : null;
      }
      if (typeof key !== 'string') throw fnError('lookup', 'an object must be indexed by a string');
      const obj = collection as JsonObject;
      return Object.hasOwn(obj, key) ? (obj[key] as JsonValue) : null;
    }),
    def('label_match', [arg(T.object), arg(T.object)], ([selector, labels]) => {
      const l = labels as JsonObject;
      return Object.entries(selector as JsonObject).every(([k, v]) => Object.hasOwn(l, k) && l[k] === v);
    }),
    def('object_from_lists', [arg(T.array), arg(T.array)], ([keys, values]) => {
      const out: JsonObject = {};
      const vals = values as JsonValue[];
      (keys as JsonValue[]).forEach((k, i) => {
        const name = typeof k === 'string' ? k : goSprint(k);
        Object.defineProperty(out, name, { value: i < vals.length ? (vals[i] as JsonValue) : null, enumerable: true, writable: true, configurable: true });
      });
      return out;
    }),
    def('to_boolean', [arg(T.string)], ([s]) => {
      const v = (s as string).toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw fnError('to_boolean', `lowercase argument must be 'true' or 'false' (provided: '${s as string}')`);
    }),
  ];
}

export { isObject };
