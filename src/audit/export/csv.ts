import type { AuditRecord } from '../record.js';
import { applicationName, callerOf, destinationOf, policyRefs, reasonCodes, secretsOf, signerOf, str } from './fields.js';

/** The CSV columns, in order (docs/audit.md §8.2). Lists inside a cell are joined with ";". */
export const CSV_COLUMNS = [
  'seq',
  'time',
  'type',
  'decisionId',
  'outcome',
  'caller',
  'remoteAddress',
  'repository',
  'revision',
  'application',
  'destination',
  'reasonCodes',
  'signer',
  'policyFailures',
  'policyAuditFailures',
  'exceptionsUsed',
  'secrets',
  'requestDigest',
  'prevHash',
  'hash',
] as const;

/**
 * One RFC 4180 field: quoted when it holds a comma, quote, CR or LF (quotes doubled). A value
 * that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading
 * apostrophe first (OWASP CSV injection); hashes, ids and times never start that way.
 */
export function csvField(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvHeader = () => `${CSV_COLUMNS.join(',')}\r\n`;

export function csvRow(r: AuditRecord): string {
  const caller = callerOf(r);
  const cells: Record<(typeof CSV_COLUMNS)[number], string | number | undefined> = {
    seq: r.seq,
    time: r.time,
    type: r.type,
    decisionId: str(r.decisionId),
    outcome: str(r.outcome),
    caller: str(caller?.identity),
    remoteAddress: str(caller?.remoteAddress) ?? str(r.remoteAddress),
    repository: str(r.repository),
    revision: str(r.revision),
    application: applicationName(r),
    destination: destinationOf(r),
    reasonCodes: reasonCodes(r).join(';'),
    signer: signerOf(r),
    policyFailures: policyRefs(r, 'failures').join(';'),
    policyAuditFailures: policyRefs(r, 'auditFailures').join(';'),
    exceptionsUsed: policyRefs(r, 'exceptionsUsed').join(';'),
    secrets: secretsOf(r).join(';'),
    requestDigest: str(r.requestDigest),
    prevHash: r.prevHash,
    hash: r.hash,
  };
  return `${CSV_COLUMNS.map((c) => csvField(cells[c])).join(',')}\r\n`;
}
