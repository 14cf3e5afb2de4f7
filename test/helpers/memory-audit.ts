import { GENESIS_HASH, sealRecord, type AuditEvent, type AuditRecord } from '../../src/audit/record.js';

/**
 * An in-memory audit sink that seals and chains records like the real log (no file, no fsync),
 * for tests of the pipeline's own behaviour. With `fail`, every append rejects with it.
 */
export function memoryAudit(fail?: Error) {
  const records: AuditRecord[] = [];
  return {
    records,
    append: async (event: AuditEvent) => {
      if (fail) throw fail;
      const rec = sealRecord(event, records.length + 1, records.at(-1)?.hash ?? GENESIS_HASH, new Date());
      records.push(rec);
      return rec;
    },
  };
}
