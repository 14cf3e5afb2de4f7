import { type SealErrorCode, inputError } from './errors.js';

/** Small shape checks shared by the Secret and SealedSecret parsers. Errors carry a field path, never a value. */

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class Checker {
  constructor(private readonly code: SealErrorCode, private readonly what: string) {}

  fail(path: string, problem: string): never {
    throw inputError(this.code, `${this.what}: ${path} ${problem}`, path);
  }

  object(value: unknown, path: string): PlainObject {
    if (!isPlainObject(value)) this.fail(path, 'must be an object');
    return value;
  }

  optionalObject(value: unknown, path: string): PlainObject | undefined {
    return value === undefined || value === null ? undefined : this.object(value, path);
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, 'must be a string');
    return value;
  }

  onlyKeys(obj: PlainObject, allowed: readonly string[], path: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.fail(path ? `${path}.${key}` : key, 'is not a supported field');
    }
  }

  name(value: unknown, path: string): string {
    const s = this.string(value, path);
    if (s.length > 253 || !DNS_SUBDOMAIN.test(s)) this.fail(path, 'must be a DNS subdomain name (lowercase, at most 253 characters)');
    return s;
  }

  namespace(value: unknown, path: string): string {
    const s = this.string(value, path);
    if (s.length > 63 || !DNS_LABEL.test(s)) this.fail(path, 'must be a DNS label (lowercase, at most 63 characters)');
    return s;
  }

  dataKey(key: string, path: string): string {
    if (key.length > 253 || !DATA_KEY.test(key)) this.fail(path, 'is not a valid Secret data key ([-._a-zA-Z0-9]+, at most 253 characters)');
    // Valid for Kubernetes, but as a JavaScript property name it would replace an object's prototype.
    if (key === '__proto__') this.fail(path, 'the data key __proto__ is not supported');
    return key;
  }

  secretType(value: unknown, path: string): string {
    const s = this.string(value, path);
    if (s.length === 0 || s.length > 253) this.fail(path, 'must be a non-empty string of at most 253 characters');
    return s;
  }

  stringMap(value: unknown, path: string): Record<string, string> | undefined {
    const obj = this.optionalObject(value, path);
    if (!obj) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = this.string(v, `${path}.${k}`);
    return out;
  }

  base64(value: unknown, path: string): Buffer {
    const s = this.string(value, path);
    if (!BASE64.test(s)) this.fail(path, 'is not valid standard base64');
    return Buffer.from(s, 'base64');
  }
}

/** A stricter base64 check than Buffer.from (which silently skips junk). */
export function isStrictBase64(s: string): boolean {
  return BASE64.test(s);
}
