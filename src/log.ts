import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Keys whose values are never printed, at any depth up to REDACT_DEPTH (compared in lower case):
 * credentials (authorization and cookie headers, tokens, passwords), key material, and secret
 * values (a Secret's data and stringData, inline deliveries).
 */
const SECRET_KEYS = new Set(['authorization', 'cookie', 'token', 'password', 'privatekey', 'stringdata', 'data', 'inlinesecrets']);
const REDACT_DEPTH = 8;
const CENSOR = '[redacted]';

const isSecretKey = (key: string): boolean => SECRET_KEYS.has(key) || SECRET_KEYS.has(key.toLowerCase());

const CIRCULAR = '[Circular]';

/**
 * `value` as JSON.stringify would print it, with the value of every secret key replaced by
 * CENSOR. Objects are copied only where something is replaced; the caller's are never changed.
 * toJSON is applied once, as JSON.stringify applies it; an object met again inside itself is
 * printed as CIRCULAR (its copy would otherwise hold the original, secrets and all).
 */
export function redactSecrets(value: unknown, depth = 0, ancestors: object[] = []): unknown {
  if (value === null || typeof value !== 'object' || depth > REDACT_DEPTH) return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    const json: unknown = toJSON.call(value);
    return json === value ? redactFields(value, depth, ancestors) : redactSecrets(withoutToJSON(json), depth, ancestors);
  }
  return redactFields(value, depth, ancestors);
}

/** What toJSON returned, if it is an object with a toJSON of its own: JSON.stringify does not call that one. */
function withoutToJSON(json: unknown): unknown {
  if (json === null || typeof json !== 'object' || typeof (json as { toJSON?: unknown }).toJSON !== 'function') return json;
  const { toJSON: _ignored, ...rest } = json as Record<string, unknown>;
  return rest;
}

function redactFields(value: object, depth: number, ancestors: object[]): unknown {
  if (ancestors.includes(value)) return CIRCULAR;
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const redacted = redactSecrets(item, depth + 1, ancestors);
        if (redacted !== item) (copy ??= value.slice())[i] = redacted;
      }
      return copy ?? value;
    }
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      const redacted = item !== undefined && isSecretKey(key) ? CENSOR : redactSecrets(item, depth + 1, ancestors);
      if (redacted !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = redacted;
    }
    return copy ?? value;
  } finally {
    ancestors.pop();
  }
}

/**
 * JSON logs on stderr (stdout belongs to command output). Known secret-bearing keys are
 * redacted as a second line of defence; the first is never to log them. Not pino's `redact`
 * option: it costs ~20 µs and ~36 KiB of garbage per line with our wildcard paths (it parses
 * every path again on every line), and the admission webhook logs a line per review.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'syncgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // `err` is left to its serializer (which needs the Error itself), and redacted after it.
      formatters: { log: (object) => redactLogObject(object) },
      serializers: { err: (err: Error) => redactSecrets(pino.stdSerializers.err(err)) },
    },
    destination,
  );
  // A child's bindings are written once, when it is made, and pino gives them to no formatter:
  // they are redacted here (an own property of the root, so children and theirs inherit it).
  const child = logger.child;
  logger.child = function redactingChild(this: Logger, bindings, options) {
    return child.call(this, redactLogObject(bindings), options);
  } as typeof logger.child;
  return logger;
}

function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    if (key === 'err') continue;
    const item = object[key];
    const redacted = item !== undefined && isSecretKey(key) ? CENSOR : redactSecrets(item, 1, [object]);
    if (redacted !== item) (copy ??= { ...object })[key] = redacted;
  }
  return copy ?? object;
}
