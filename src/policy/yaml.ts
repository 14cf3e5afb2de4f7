/**
 * YAML/JSON text to JSON values, shared by the policy loader, payload parsing and parse_yaml.
 * YAML 1.2 core schema plus merge keys: no timestamps or binary (values stay JSON types).
 * Aliases can make a small document describe a huge tree (billion laughs), so converting walks
 * at most MAX_NODES nodes.
 */
import yaml from 'js-yaml';
import type { JsonValue } from './jmespath/types.js';

// `types` exists at runtime but is missing from @types/js-yaml
const mergeType = (yaml as unknown as { types: { merge: yaml.Type } }).types.merge;
export const YAML_SCHEMA = yaml.CORE_SCHEMA.extend([mergeType]);
const MAX_NODES = 5_000_000;
const MAX_DEPTH = 1_000;

export class YamlValueError extends Error {}

/** Checks that `v` is a JSON value (finite structure, JSON types) and returns it. */
export function toJsonValue(v: unknown): JsonValue {
  let nodes = 0;
  const walk = (x: unknown, depth: number): void => {
    if (++nodes > MAX_NODES) throw new YamlValueError(`document expands to more than ${MAX_NODES} nodes`);
    if (depth > MAX_DEPTH) throw new YamlValueError(`document nested deeper than ${MAX_DEPTH}`);
    if (x === null || typeof x === 'string' || typeof x === 'boolean') return;
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) throw new YamlValueError(`non-finite number ${x} is not a JSON value`);
      return;
    }
    if (Array.isArray(x)) {
      for (const e of x) walk(e, depth + 1);
      return;
    }
    if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
      for (const k of Object.keys(x)) walk((x as Record<string, unknown>)[k], depth + 1);
      return;
    }
    throw new YamlValueError(`unsupported value of type ${x === undefined ? 'undefined' : typeof x}`);
  };
  walk(v === undefined ? null : v, 0);
  return (v === undefined ? null : v) as JsonValue;
}

/** Parses every document of a YAML stream (JSON is YAML). Throws js-yaml's YAMLException. */
export function loadYamlDocuments(text: string, filename?: string): unknown[] {
  return yaml.loadAll(text, undefined, { schema: YAML_SCHEMA, ...(filename ? { filename } : {}) });
}

export function loadYaml(text: string): unknown {
  return yaml.load(text, { schema: YAML_SCHEMA });
}
