import { InputError } from '../../errors.js';
import type { AuditRecord } from '../record.js';

/** Which records an export keeps (docs/audit.md §8). Every condition must hold. */
export interface ExportFilter {
  /** time >= since */
  since?: Date;
  /** time < until */
  until?: Date;
  /** Decisions with this outcome only (security events have no outcome and are left out). */
  outcome?: 'allow' | 'deny' | 'bad_request';
  /** Records whose repository is exactly this. */
  repository?: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;
const RELATIVE = /^(\d{1,9})(s|m|h|d|w)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * Parses a --since/--until value: an RFC 3339 date or date-time with a zone ("2026-01-31",
 * "2026-01-31T12:00:00Z", "…+02:00"; a bare date is midnight UTC), or an age before `now`
 * ("90m", "24h", "7d", "2w"). Anything else is a usage error (AUDIT_BAD_TIME).
 */
export function parseTimeBound(value: string, flag: string, now: Date = new Date()): Date {
  const v = value.trim();
  const rel = RELATIVE.exec(v);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS]);
  if (RFC3339.test(v)) {
    const iso = v.length === 10 ? `${v}T00:00:00Z` : v.replace(' ', 'T');
    const ms = Date.parse(iso);
    if (!Number.isNaN(ms)) {
      // Date.parse rolls 2026-02-31 over to March; refuse dates that do not exist.
      const [y, mo, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
      const check = new Date(Date.UTC(y, mo - 1, d));
      if (check.getUTCFullYear() === y && check.getUTCMonth() === mo - 1 && check.getUTCDate() === d) return new Date(ms);
    }
  }
  throw new InputError(
    'AUDIT_BAD_TIME',
    `${flag} ${JSON.stringify(value)} is not a time: give an RFC 3339 date or date-time with a zone (2026-01-31, 2026-01-31T12:00:00Z) or an age (90m, 24h, 7d)`,
    { path: flag },
  );
}

export function parseOutcome(value: string | undefined, flag = '--outcome'): ExportFilter['outcome'] {
  if (value === undefined) return undefined;
  if (value === 'allow' || value === 'deny' || value === 'bad_request') return value;
  throw new InputError('USAGE', `${flag} must be allow, deny or bad_request, not ${JSON.stringify(value)}`, { path: flag });
}

export function isFiltered(f: ExportFilter): boolean {
  return f.since !== undefined || f.until !== undefined || f.outcome !== undefined || f.repository !== undefined;
}

export function matches(record: AuditRecord, f: ExportFilter): boolean {
  if (f.since || f.until) {
    const t = Date.parse(record.time);
    if (Number.isNaN(t)) return false;
    if (f.since && t < f.since.getTime()) return false;
    if (f.until && t >= f.until.getTime()) return false;
  }
  if (f.outcome !== undefined && record.outcome !== f.outcome) return false;
  if (f.repository !== undefined && record.repository !== f.repository) return false;
  return true;
}
