import type { KeyObject } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadVerifyKey } from '../audit/checkpoint.js';
import { closeFiles, exportFiles } from '../audit/export/stream.js';
import { verifyLog, type VerifyReport } from '../audit/verify.js';
import { InputError } from '../errors.js';
import { auditConfigFrom, checkOutput } from './audit-common.js';
import { EXIT_FAIL, EXIT_OK } from './exit-codes.js';
import { ProgressBar } from './progress.js';

interface Options {
  log?: string;
  config?: string;
  key?: string;
  mirror?: string;
  maxUnsigned?: string;
  output: string;
}

function textReport(r: VerifyReport): string {
  const lines: string[] = [];
  const files = r.files.map((f) => `${f.file} [${f.status}${f.firstSeq !== null ? ` ${f.firstSeq}..${f.lastSeq}` : ''}]`);
  if (r.valid) {
    lines.push(`audit log VALID: ${r.records} records${r.lastSeq !== null ? `, seq ${r.firstSeq ?? '-'}..${r.lastSeq}` : ''} in ${r.files.length} file(s); head ${r.head ?? '(empty)'}`);
  } else {
    const p = r.problem!;
    lines.push(`audit log NOT VALID: ${p.kind}${p.seq !== null ? ` at seq ${p.seq}` : ''}: ${p.code}: ${p.message}`);
    lines.push(`  in ${p.file}${p.line !== undefined ? ` line ${p.line}` : ''}; records before it verified: ${r.records}`);
  }
  const cp = r.checkpoints;
  lines.push(
    `checkpoints: ${cp.count}${cp.signaturesChecked ? ` signed by key ${cp.keyId}, signatures verified` : ' (signatures NOT checked: no --key)'}${cp.lastSeq !== null ? `; last covers seq ${cp.lastSeq}` : ''}; ${r.uncheckpointed} record(s) after the last checkpoint`,
  );
  if (r.mirror) lines.push(`mirror: ${r.mirror.file}: ${r.mirror.checkpoints} checkpoint(s), ${r.mirror.compared} compared with the log`);
  for (const f of files) lines.push(`  ${f}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

export function registerAuditVerify(audit: Command): void {
  audit
    .command('verify')
    .description('verify every record, the hash chain across rotated files, and the signed checkpoints')
    .option('--log <file>', 'the active log file (default: audit.path from --config)')
    .option('--config <file>', 'take the log path, the checkpoint key and the mirror from a configuration file')
    .option('--key <file>', 'audit public key (audit-signing.pub) to check checkpoint signatures with')
    .option('--mirror <file>', 'mirrored checkpoints (JSON lines) to compare the log with: detects truncation')
    .option('--max-unsigned <n>', 'fail when more than N records follow the last checkpoint')
    .option('--output <format>', 'text or json', 'text')
    .action(async (opts: Options) => {
      const output = checkOutput(opts.output);
      let maxUncheckpointed: number | undefined;
      if (opts.maxUnsigned !== undefined) {
        if (!/^\d{1,15}$/.test(opts.maxUnsigned)) throw new InputError('USAGE', `--max-unsigned must be a whole number, not ${opts.maxUnsigned}`);
        maxUncheckpointed = Number(opts.maxUnsigned);
      }
      const config = await auditConfigFrom(opts);
      const keyFile = opts.key ?? (opts.config !== undefined ? config.checkpoints.keyFile : undefined);
      const publicKey: KeyObject | undefined = keyFile !== undefined ? await loadVerifyKey(keyFile) : undefined;
      const mirrorFile = opts.mirror ?? (opts.config !== undefined ? config.checkpoints.mirror.file : undefined);
      if (mirrorFile !== undefined) {
        await stat(mirrorFile).catch((err: NodeJS.ErrnoException) => {
          throw new InputError('AUDIT_LOG_UNREADABLE', `${mirrorFile}: cannot read the checkpoint mirror (${err.code ?? 'error'})`, { file: mirrorFile });
        });
      }
      const files = await exportFiles(config.path);
      await closeFiles(files);
      const bar = new ProgressBar(files.reduce((n, f) => n + f.bytes, 0), 'verifying (bytes)');
      let done = 0;
      const report = await verifyLog(config.path, {
        ...(publicKey ? { publicKey } : {}),
        ...(mirrorFile !== undefined ? { mirrorFile } : {}),
        ...(maxUncheckpointed !== undefined ? { maxUncheckpointed } : {}),
        onBytes: (n) => bar.tick((done += n)),
      });
      bar.done();
      process.stdout.write(output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : textReport(report));
      process.exitCode = report.valid ? EXIT_OK : EXIT_FAIL;
    });
}
