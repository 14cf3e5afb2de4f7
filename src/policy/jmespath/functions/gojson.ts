/**
 * Go-compatible JSON text and `fmt.Sprint` for JSON values: `encoding/json` sorts map keys and
 * escapes `<`, `>`, `&`, U+2028 and U+2029; numbers print as Go's float64 `%v`.
 */
import { goNumberString } from './util.js';

function goJsonNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${n}`);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(n);
}

export function goJson(value: unknown, depth = 0): string {
  if (depth > 1000) throw new Error('json: value nested too deeply');
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    case 'number':
      return goJsonNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => goJson(v, depth + 1)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort(compareUtf8);
      return `{${keys.map((k) => `${goJson(k)}:${goJson(obj[k], depth + 1)}`).join(',')}}`;
    }
    default:
      throw new Error(`json: unsupported type ${typeof value}`);
  }
}

/** Byte-wise UTF-8 order (= code point order), as Go compares strings. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = (x.value as string).codePointAt(0) as number;
    const cy = (y.value as string).codePointAt(0) as number;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/**
 * `fmt.Sprint(v)` for JSON values (used for identifiers): strings as-is, numbers as `%v`,
 * null as `<nil>`, maps as `map[k:v …]` (sorted keys), arrays as `[a b]`.
 */
export function goSprint(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumberString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(goSprint).join(' ')}]`;
  const obj = v as Record<string, unknown>;
  return `map[${Object.keys(obj).sort(compareUtf8).map((k) => `${k}:${goSprint(obj[k])}`).join(' ')}]`;
}
