import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_RECORD_VERSION = 1;

/** What a caller hands to the log; the log adds version, seq, time and the chain fields. */
export interface AuditEvent {
  /** "decision" for gate decisions; security events get their own types (gate.start, gate.stop, ...). */
  type: string;
  decisionId?: string;
  [field: string]: unknown;
}

export interface AuditRecord extends AuditEvent {
  v: number;
  seq: number;
  time: string;
  prevHash: string;
  hash: string;
}

/** hash = sha256 over the canonical JSON of the record without its own `hash` field. */
export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

export function sealRecord(event: AuditEvent, seq: number, prevHash: string, time: Date): AuditRecord {
  const unsealed = { ...event, v: AUDIT_RECORD_VERSION, seq, time: time.toISOString(), prevHash };
  return { ...unsealed, hash: recordHash(unsealed) };
}
