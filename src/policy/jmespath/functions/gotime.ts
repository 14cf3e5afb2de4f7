/**
 * Just enough of Go's `time` package for Kyverno's time functions: parse with a Go reference
 * layout (`2006-01-02T15:04:05Z07:00`), RFC 3339 in and out, instants as (unix nanoseconds,
 * UTC offset) pairs so the offset of a parsed time is preserved on output, as Go does.
 */
export interface GoTime {
  /** nanoseconds since the Unix epoch */
  ns: bigint;
  /** seconds east of UTC */
  offset: number;
}

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
const NS_PER_SEC = 1_000_000_000n;
const NS_PER_DAY = 86_400n * NS_PER_SEC;
/** Seconds from 0001-01-01T00:00:00Z (Go's zero time) to the Unix epoch. */
export const ZERO_TO_UNIX_NS = 62_135_596_800n * NS_PER_SEC;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z0: number): { y: number; m: number; d: number } {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: era * 400 + yoe + (m <= 2 ? 1 : 0), m, d };
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}
function daysIn(m: number, y: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] as number;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

export interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number;
}

/** Wall-clock fields of `t` in its own offset. */
export function civil(t: GoTime): Civil {
  const local = t.ns + BigInt(t.offset) * NS_PER_SEC;
  const days = floorDiv(local, NS_PER_DAY);
  const rem = local - days * NS_PER_DAY;
  const secs = Number(rem / NS_PER_SEC);
  const { y, m, d } = civilFromDays(Number(days));
  const weekday = (((Number(days) + 4) % 7) + 7) % 7;
  return { year: y, month: m, day: d, hour: Math.floor(secs / 3600), minute: Math.floor(secs / 60) % 60, second: secs % 60, nanos: Number(rem % NS_PER_SEC), weekday };
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

/** `t.Format(time.RFC3339)` (no fractional seconds). */
export function formatRFC3339(t: GoTime): string {
  const c = civil(t);
  let zone = 'Z';
  if (t.offset !== 0) {
    const abs = Math.abs(t.offset);
    zone = `${t.offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor(abs / 60) % 60, 2)}`;
  }
  return `${pad(c.year, 4)}-${pad(c.month, 2)}-${pad(c.day, 2)}T${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}${zone}`;
}

export function fromDate(d: Date, utc: boolean): GoTime {
  const offset = utc ? 0 : -d.getTimezoneOffset() * 60;
  return { ns: BigInt(d.getTime()) * 1_000_000n, offset };
}

type Chunk = { kind: 'lit'; text: string } | { kind: 'std'; std: string };

const STD_PREFIXES = [
  'January', 'Jan', 'Monday', 'Mon', 'MST', '002', '01', '02', '03', '04', '05', '06', '15', '2006', '_2',
  'Z07:00:00', 'Z070000', 'Z07:00', 'Z0700', 'Z07', '-07:00:00', '-070000', '-07:00', '-0700', '-07',
  'PM', 'pm', '1', '2', '3', '4', '5',
];

/** Splits a Go layout into literal text and std tokens (like Go's nextStdChunk). */
function tokenize(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let lit = '';
  let i = 0;
  outer: while (i < layout.length) {
    const rest = layout.slice(i);
    // fractional seconds: .000 / .999 / ,000 not followed by a digit
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(rest);
    if (frac) {
      if (lit) out.push({ kind: 'lit', text: lit });
      lit = '';
      out.push({ kind: 'std', std: frac[0] });
      i += frac[0].length;
      continue;
    }
    for (const p of STD_PREFIXES) {
      if (rest.startsWith(p)) {
        if (p === 'Jan' && rest.startsWith('January')) continue;
        if (p === 'Mon' && rest.startsWith('Monday')) continue;
        if (p === 'Mon' && rest.startsWith('Month')) break; // Go treats "Month" as literal text
        if (lit) out.push({ kind: 'lit', text: lit });
        lit = '';
        out.push({ kind: 'std', std: p });
        i += p.length;
        continue outer;
      }
    }
    lit += layout[i];
    i++;
  }
  if (lit) out.push({ kind: 'lit', text: lit });
  return out;
}

class ParseFailure extends Error {}

function fail(value: string, layout: string, why: string): never {
  throw new ParseFailure(`parsing time "${value}" as "${layout}": ${why}`);
}

/** `time.Parse(layout, value)`. Throws an Error with Go-like text on failure. */
export function parseGoTime(layout: string, value: string): GoTime {
  const chunks = tokenize(layout);
  let v = value;
  let year = 0;
  let month = 1;
  let day = 1;
  let yday = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pm: boolean | undefined;
  let offset = 0;
  const num = (min: number, max: number, what: string): number => {
    const m = new RegExp(`^[0-9]{${min},${max}}`).exec(v);
    if (!m) fail(value, layout, `cannot parse "${v}" as "${what}"`);
    v = v.slice(m[0].length);
    return Number(m[0]);
  };
  const name = (names: string[], len: number | undefined, what: string): number => {
    for (let k = 0; k < names.length; k++) {
      const n = len ? (names[k] as string).slice(0, len) : (names[k] as string);
      if (v.slice(0, n.length).toLowerCase() === n.toLowerCase()) {
        v = v.slice(n.length);
        return k;
      }
    }
    return fail(value, layout, `cannot parse "${v}" as "${what}"`);
  };
  for (const c of chunks) {
    if (c.kind === 'lit') {
      if (!v.startsWith(c.text)) fail(value, layout, `cannot parse "${v}" as "${c.text}"`);
      v = v.slice(c.text.length);
      continue;
    }
    switch (c.std) {
      case '2006':
        year = num(4, 4, '2006');
        break;
      case '06': {
        const y = num(2, 2, '06');
        year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case 'January':
        month = name(MONTHS, undefined, 'January') + 1;
        break;
      case 'Jan':
        month = name(MONTHS, 3, 'Jan') + 1;
        break;
      case '01':
        month = num(2, 2, '01');
        break;
      case '1':
        month = num(1, 2, '1');
        break;
      case 'Monday':
        name(DAYS, undefined, 'Monday');
        break;
      case 'Mon':
        name(DAYS, 3, 'Mon');
        break;
      case '02':
        day = num(2, 2, '02');
        break;
      case '_2':
        if (v.startsWith(' ')) v = v.slice(1);
        day = num(1, 2, '_2');
        break;
      case '2':
        day = num(1, 2, '2');
        break;
      case '002':
        yday = num(3, 3, '002');
        break;
      case '15':
        hour = num(1, 2, '15');
        break;
      case '03':
        hour = num(2, 2, '03');
        break;
      case '3':
        hour = num(1, 2, '3');
        break;
      case '04':
        minute = num(2, 2, '04');
        break;
      case '4':
        minute = num(1, 2, '4');
        break;
      case '05':
      case '5': {
        second = c.std === '05' ? num(2, 2, '05') : num(1, 2, '5');
        // Go accepts fractional seconds after a seconds field even if the layout has none
        const f = /^[.,]([0-9]+)/.exec(v);
        const next = chunks[chunks.indexOf(c) + 1];
        if (f && !(next && next.kind === 'std' && /^[.,]/.test(next.std))) {
          nanos = Number(f[1]!.slice(0, 9).padEnd(9, '0'));
          v = v.slice(f[0].length);
        }
        break;
      }
      case 'PM':
      case 'pm': {
        const ap = v.slice(0, 2).toUpperCase();
        if (ap !== 'AM' && ap !== 'PM') fail(value, layout, `cannot parse "${v}" as "PM"`);
        pm = ap === 'PM';
        v = v.slice(2);
        break;
      }
      case 'MST': {
        const m = /^(UTC|GMT(?:[+-][0-9]{1,2})?|[A-Z]{3,5})/.exec(v);
        if (!m) fail(value, layout, `cannot parse "${v}" as "MST"`);
        const g = /^GMT([+-][0-9]{1,2})$/.exec(m[0]);
        offset = g ? Number(g[1]) * 3600 : 0;
        v = v.slice(m[0].length);
        break;
      }
      default: {
        if (c.std.startsWith('Z') || c.std.startsWith('-')) {
          if (c.std.startsWith('Z') && v.startsWith('Z')) {
            v = v.slice(1);
            offset = 0;
            break;
          }
          const shape = c.std.slice(1);
          const re =
            shape === '07' ? /^([+-])([0-9]{2})/ :
            shape === '0700' ? /^([+-])([0-9]{2})([0-9]{2})/ :
            shape === '07:00' ? /^([+-])([0-9]{2}):([0-9]{2})/ :
            shape === '070000' ? /^([+-])([0-9]{2})([0-9]{2})([0-9]{2})/ :
            /^([+-])([0-9]{2}):([0-9]{2}):([0-9]{2})/;
          const m = re.exec(v);
          if (!m) fail(value, layout, `cannot parse "${v}" as "${c.std}"`);
          const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
          offset = m[1] === '-' ? -secs : secs;
          v = v.slice(m[0].length);
          break;
        }
        // fractional seconds token
        const digits = c.std.length - 1;
        if (c.std[1] === '0') {
          const m = new RegExp(`^[.,]([0-9]{${digits}})`).exec(v);
          if (!m) fail(value, layout, `cannot parse "${v}" as "${c.std}"`);
          nanos = Number(m[1]!.slice(0, 9).padEnd(9, '0'));
          v = v.slice(m[0].length);
        } else {
          const m = /^[.,]([0-9]+)/.exec(v);
          if (m) {
            nanos = Number(m[1]!.slice(0, 9).padEnd(9, '0'));
            v = v.slice(m[0].length);
          }
        }
      }
    }
  }
  if (v !== '') fail(value, layout, `extra text: "${v}"`);
  if (pm !== undefined) {
    if (hour < 1 || hour > 12) fail(value, layout, 'hour out of range');
    if (pm && hour < 12) hour += 12;
    if (!pm && hour === 12) hour = 0;
  }
  if (yday >= 0) {
    if (yday < 1 || yday > (isLeap(year) ? 366 : 365)) fail(value, layout, 'day-of-year out of range');
    let m = 1;
    let d = yday;
    while (d > daysIn(m, year)) {
      d -= daysIn(m, year);
      m++;
    }
    month = m;
    day = d;
  }
  if (month < 1 || month > 12) fail(value, layout, 'month out of range');
  if (day < 1 || day > daysIn(month, year)) fail(value, layout, 'day out of range');
  if (hour > 23) fail(value, layout, 'hour out of range');
  if (minute > 59) fail(value, layout, 'minute out of range');
  if (second > 59) fail(value, layout, 'second out of range');
  const days = BigInt(daysFromCivil(year, month, day));
  const local = days * NS_PER_DAY + BigInt(hour * 3600 + minute * 60 + second) * NS_PER_SEC + BigInt(nanos);
  return { ns: local - BigInt(offset) * NS_PER_SEC, offset };
}

export function parseRFC3339(value: string): GoTime {
  return parseGoTime(RFC3339, value);
}

/** `t.Truncate(d)`: round down to a multiple of d since Go's zero time (d <= 0: unchanged). */
export function truncate(t: GoTime, d: bigint): GoTime {
  if (d <= 0n) return t;
  const abs = t.ns + ZERO_TO_UNIX_NS;
  const r = ((abs % d) + d) % d;
  return { ns: t.ns - r, offset: t.offset };
}
