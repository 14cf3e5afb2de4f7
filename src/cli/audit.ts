import type { Command } from 'commander';
import { registerAuditExport } from './audit-export.js';
import { registerAuditKeygen } from './audit-keygen.js';
import { registerAuditVerify } from './audit-verify.js';

/** `syncgate audit verify|export|keygen` (docs/audit.md). */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('verify, export and manage the tamper-evident audit log');
  registerAuditVerify(audit);
  registerAuditExport(audit);
  registerAuditKeygen(audit);
}
