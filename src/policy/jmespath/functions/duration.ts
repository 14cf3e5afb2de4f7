/**
 * Go `time.Duration`: parse (`time.ParseDuration`) and format (`Duration.String()`), as signed
 * int64 nanoseconds held in a bigint.
 */
const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5
  'μs': 1_000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;
export const SECOND = 1_000_000_000n;

/** Returns nanoseconds, or undefined when `s` is not a Go duration. */
export function parseDuration(input: string): bigint | undefined {
  let s = input;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  const re = /^([0-9]*)(?:\.([0-9]*))?([^0-9.]+)/;
  while (s !== '') {
    const m = re.exec(s);
    if (!m) return undefined;
    const [whole, intPart = '', fracPart, unitName = ''] = m;
    if (intPart === '' && (fracPart === undefined || fracPart === '')) return undefined;
    const unit = UNITS[unitName];
    if (unit === undefined) return undefined;
    let v = BigInt(intPart || '0') * unit;
    if (fracPart) {
      const scale = 10n ** BigInt(fracPart.length);
      v += (BigInt(fracPart) * unit) / scale;
    }
    total += v;
    if (total > MAX_INT64 + (neg ? 1n : 0n)) return undefined;
    s = s.slice(whole.length);
  }
  return neg ? -total : total;
}

function fraction(v: bigint, digits: number): string {
  // v < 10^digits; returns ".ddd" with trailing zeros removed, or "" when zero
  if (v === 0n) return '';
  return '.' + v.toString().padStart(digits, '0').replace(/0+$/, '');
}

/** Go's `Duration.String()`: "1h2m3.5s", "1.5ms", "0s". */
export function formatDuration(d: bigint): string {
  if (d === 0n) return '0s';
  const sign = d < 0n ? '-' : '';
  const u = d < 0n ? -d : d;
  if (u < SECOND) {
    if (u < 1_000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) return `${sign}${u / 1_000n}${fraction(u % 1_000n, 3)}µs`;
    return `${sign}${u / 1_000_000n}${fraction(u % 1_000_000n, 6)}ms`;
  }
  const secs = u / SECOND;
  const frac = fraction(u % SECOND, 9);
  const h = secs / 3600n;
  const m = (secs / 60n) % 60n;
  const s = secs % 60n;
  let out = sign;
  if (h > 0n) out += `${h}h`;
  if (h > 0n || m > 0n) out += `${m}m`;
  return `${out}${s}${frac}s`;
}

/** Duration from float seconds, truncated like Go's `time.Duration(float64)`. */
export function durationFromSeconds(seconds: number): bigint {
  const ns = seconds * 1e9;
  if (!Number.isFinite(ns) || Math.abs(ns) > 9.223372036854776e18) throw new RangeError('duration out of range');
  return BigInt(Math.trunc(ns));
}

export function durationSeconds(d: bigint): number {
  return Number(d) / 1e9;
}
