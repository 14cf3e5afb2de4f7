import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_RECORD_VERSION = 1;

/** Security event types (docs/audit.md §3). Decisions have the type "decision". */
export const SECURITY_EVENT_TYPES = [
  'gate.start',
  'gate.stop',
  'config.reload',
  'keys.reload',
  'auth.failed',
  'policy.exception.used',
  'audit.repaired',
  'audit.checkpoint',
  'audit.export',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/** What a caller hands to the log; the log adds version, seq, time, clock and the chain fields. */
export interface AuditEvent {
  /** "decision" for gate decisions; security events get their own types (gate.start, gate.stop, ...). */
  type: string;
  decisionId?: string;
  [field: string]: unknown;
}

/** Fields the log adds to every event (docs/audit.md §2). */
export interface RecordEnvelope {
  v: number;
  seq: number;
  /** RFC 3339 UTC with milliseconds, from `clock`. */
  time: string;
  /** Where `time` comes from ("system" = the host clock; operators may name their NTP source). */
  clock: string;
  /** Milliseconds since this log was opened by this process, from a monotonic clock. */
  mono: number;
  prevHash: string;
  hash: string;
}

export type AuditRecord = AuditEvent & RecordEnvelope;

/** hash = sha256 over the canonical JSON of the record without its own `hash` field. */
export function recordHash(record: Omit<AuditRecord, 'hash'> | Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

export interface SealOptions {
  clock?: string;
  mono?: number;
}

/**
 * Turns an event into a chained record and its stored line. The event is taken as JSON prints it
 * (dates become strings, functions and undefined disappear), so the hash is over exactly what a
 * reader parses, and the record returned is the line parsed. The envelope fields win over event
 * fields of the same name. The top-level members are made canonical once and used for both the
 * hash and the line.
 */
export function sealRecordLine(event: AuditEvent, seq: number, prevHash: string, time: Date, options: SealOptions = {}): { record: AuditRecord; line: string } {
  // (an event with a toJSON of its own is taken as that prints it; its members are made canonical below)
  const fields = typeof (event as { toJSON?: unknown }).toJSON === 'function' ? (JSON.parse(JSON.stringify(event)) as AuditEvent) : event;
  const unsealed: Record<string, unknown> = {
    ...fields,
    v: AUDIT_RECORD_VERSION,
    seq,
    time: time.toISOString(),
    clock: options.clock ?? 'system',
    mono: options.mono ?? 0,
    prevHash,
  };
  delete unsealed.hash;
  // The members that sort before "hash" and those after it, each made canonical once: the hash is
  // over both, and the line has "hash" between them.
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  for (const key of Object.keys(unsealed)) {
    const part = key < 'hash' ? before : after;
    // (a "__proto__" member must stay a member, not become the prototype)
    if (key === '__proto__') Object.defineProperty(part, key, { value: unsealed[key], enumerable: true, writable: true, configurable: true });
    else part[key] = unsealed[key];
  }
  const members = (json: string) => json.slice(1, -1);
  const low = members(canonicalJson(before));
  const high = members(canonicalJson(after));
  const join = (...parts: string[]) => `{${parts.filter((p) => p !== '').join(',')}}`;
  const hash = createHash('sha256').update(join(low, high)).digest('hex');
  const line = `${join(low, `"hash":"${hash}"`, high)}\n`;
  return { record: JSON.parse(line) as AuditRecord, line };
}

/** Turns an event into a chained record (see sealRecordLine). */
export function sealRecord(event: AuditEvent, seq: number, prevHash: string, time: Date, options: SealOptions = {}): AuditRecord {
  return sealRecordLine(event, seq, prevHash, time, options).record;
}

/** The one line a record is stored as: canonical JSON (sorted keys, no spaces) and a newline. */
export function encodeRecord(record: AuditRecord): string {
  return `${canonicalJson(record)}\n`;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks the shape every stored record must have; returns what is wrong, or undefined. */
export function recordShapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the line is not a JSON object';
  const r = value as Record<string, unknown>;
  if (typeof r.type !== 'string' || r.type === '') return 'the record has no type';
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return 'the record has no valid seq';
  if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time))) return 'the record has no valid time';
  if (typeof r.prevHash !== 'string' || !HEX64.test(r.prevHash)) return 'the record has no valid prevHash';
  if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return 'the record has no valid hash';
  return undefined;
}
