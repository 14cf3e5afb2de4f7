/**
 * Payloads (kyverno-json `scan --payload`): text to a JSON value, pre-processors, and the list of
 * resources. `.json` is parsed as JSON; anything else as a YAML stream where one document gives
 * that document and several give an array. Pre-processors are JMESPath expressions applied in
 * order, each replacing the payload (a null result is an error). An array payload is one resource
 * per element; anything else is a single resource.
 */
import path from 'node:path';
import { PolicyErrorCode, PolicyLoadError } from './errors.js';
import { Bindings } from './jmespath/bindings.js';
import { Budget } from './jmespath/budget.js';
import type { JsonValue } from './jmespath/types.js';
import { jmespath } from './runtime.js';
import { loadYamlDocuments, toJsonValue } from './yaml.js';

function payloadError(message: string, file: string | undefined, cause?: unknown, document?: number): PolicyLoadError {
  return new PolicyLoadError(
    PolicyErrorCode.PAYLOAD_ERROR,
    `${file ?? '<payload>'}${document !== undefined ? ` (document ${document})` : ''}: ${message}`,
    { ...(file !== undefined ? { file } : {}), ...(document !== undefined ? { document } : {}) },
    cause === undefined ? undefined : { cause },
  );
}

/** Parses payload text; the format is chosen by the file extension (`.json` → JSON, else YAML). */
export function parsePayload(text: string, file?: string): JsonValue {
  if (file !== undefined && path.extname(file).toLowerCase() === '.json') {
    try {
      return toJsonValue(JSON.parse(text));
    } catch (err) {
      throw payloadError(`invalid JSON: ${(err as Error).message}`, file, err);
    }
  }
  let docs: unknown[];
  try {
    docs = loadYamlDocuments(text, file).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    throw payloadError(`invalid YAML: ${(err as Error).message}`, file, err);
  }
  const values = docs.map((d, i) => {
    try {
      return toJsonValue(d);
    } catch (err) {
      throw payloadError((err as Error).message, file, err, i);
    }
  });
  if (values.length === 0) return null;
  return values.length === 1 ? (values[0] as JsonValue) : values;
}

/** Applies `--pre-process` expressions in order. Throws PolicyLoadError on errors and null results. */
export function preprocess(payload: JsonValue, expressions: readonly string[], bindings: Record<string, unknown> = {}): JsonValue {
  let current = payload;
  const scope = Bindings.fromObject(bindings as Record<string, JsonValue>);
  for (const expr of expressions) {
    try {
      current = jmespath.evaluate(jmespath.compile(expr), current, scope, new Budget());
    } catch (err) {
      throw payloadError(`pre-processor "${expr}" failed: ${(err as Error).message}`, undefined, err);
    }
    if (current === null) throw payloadError(`pre-processor "${expr}" returned null`, undefined);
  }
  return current;
}

/** The resource list of a payload. A null payload is an error. */
export function toResources(payload: JsonValue): JsonValue[] {
  if (payload === null) throw payloadError('payload is null', undefined);
  return Array.isArray(payload) ? payload : [payload];
}

/** External bindings (`--bindings FILE`): a YAML/JSON mapping. */
export function parseBindings(text: string, file?: string): Record<string, JsonValue> {
  let v: JsonValue;
  try {
    v = parsePayload(text, file);
  } catch (err) {
    throw new PolicyLoadError(PolicyErrorCode.BINDINGS_INVALID, (err as Error).message, file !== undefined ? { file } : undefined, { cause: err });
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new PolicyLoadError(PolicyErrorCode.BINDINGS_INVALID, `${file ?? '<bindings>'}: bindings must be a mapping`, file !== undefined ? { file } : undefined);
  }
  return v;
}
