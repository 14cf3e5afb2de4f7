/** Kyverno time functions over RFC 3339 strings and Go durations. */
import type { FunctionDef, FunctionEnv, JsonValue } from '../types.js';
import { arg, def, fnError, T } from './util.js';
import { formatDuration, parseDuration } from './duration.js';
import { civil, formatRFC3339, fromDate, parseGoTime, parseRFC3339, RFC3339, truncate, type GoTime } from './gotime.js';

function time(name: string, v: JsonValue, layout = RFC3339): GoTime {
  try {
    return parseGoTime(layout, v as string);
  } catch (err) {
    throw fnError(name, (err as Error).message);
  }
}
function duration(name: string, v: JsonValue): bigint {
  const d = parseDuration(v as string);
  if (d === undefined) throw fnError(name, `time: invalid duration "${v as string}"`);
  return d;
}

export function timeFunctions(env: FunctionEnv): FunctionDef[] {
  return [
    def('time_now', [], () => formatRFC3339(fromDate(env.now(), false))),
    def('time_now_utc', [], () => formatRFC3339(fromDate(env.now(), true))),
    def('time_since', [arg(T.string), arg(T.string), arg(T.string)], ([layout, t1, t2]) => {
      const l = (layout as string) || RFC3339;
      const a = time('time_since', t1 as JsonValue, l);
      const b = t2 === '' ? fromDate(env.now(), true) : time('time_since', t2 as JsonValue, l);
      return formatDuration(b.ns - a.ns);
    }),
    def('time_add', [arg(T.string), arg(T.string)], ([t, d]) => {
      const base = time('time_add', t as JsonValue);
      return formatRFC3339({ ns: base.ns + duration('time_add', d as JsonValue), offset: base.offset });
    }),
    def('time_parse', [arg(T.string), arg(T.string)], ([layout, value]) => {
      if (/^[+-]?[0-9]+$/.test(layout as string)) {
        // an integer layout means "value is a Unix epoch in seconds"
        if (!/^[+-]?[0-9]+$/.test(value as string)) throw fnError('time_parse', `invalid epoch "${value as string}"`);
        return formatRFC3339({ ns: BigInt(value as string) * 1_000_000_000n, offset: 0 });
      }
      return formatRFC3339(time('time_parse', value as JsonValue, layout as string));
    }),
    def('time_utc', [arg(T.string)], ([t]) => formatRFC3339({ ns: time('time_utc', t as JsonValue).ns, offset: 0 })),
    def('time_diff', [arg(T.string), arg(T.string)], ([t1, t2]) => formatDuration(time('time_diff', t2 as JsonValue).ns - time('time_diff', t1 as JsonValue).ns)),
    def('time_before', [arg(T.string), arg(T.string)], ([t1, t2]) => time('time_before', t1 as JsonValue).ns < time('time_before', t2 as JsonValue).ns),
    def('time_after', [arg(T.string), arg(T.string)], ([t1, t2]) => time('time_after', t1 as JsonValue).ns > time('time_after', t2 as JsonValue).ns),
    def('time_between', [arg(T.string), arg(T.string), arg(T.string)], ([t, start, end]) => {
      const x = time('time_between', t as JsonValue).ns;
      return x > time('time_between', start as JsonValue).ns && x < time('time_between', end as JsonValue).ns;
    }),
    def('time_truncate', [arg(T.string), arg(T.string)], ([t, d]) => formatRFC3339(truncate(time('time_truncate', t as JsonValue), duration('time_truncate', d as JsonValue)))),
    def('time_to_cron', [arg(T.string)], ([t]) => {
      const c = civil(time('time_to_cron', t as JsonValue));
      return `${c.minute} ${c.hour} ${c.day} ${c.month} ${c.weekday}`;
    }),
  ];
}

export { parseRFC3339 };
