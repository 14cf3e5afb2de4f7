import { createWriteStream } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { isFiltered, parseOutcome, parseTimeBound, type ExportFilter } from '../audit/export/filter.js';
import { markExported } from '../audit/export/marks.js';
import { EXPORT_FORMATS, exportChunks, exportFiles, type ExportFile, type ExportFormat } from '../audit/export/stream.js';
import { InputError, SyncgateError } from '../errors.js';
import { auditConfigFrom } from './audit-common.js';
import { EXIT_FAIL, EXIT_OK } from './exit-codes.js';
import { ProgressBar } from './progress.js';

interface Options {
  log?: string;
  config?: string;
  format: string;
  since?: string;
  until?: string;
  outcome?: string;
  repository?: string;
  out?: string;
  markExported?: boolean;
}

/** Builds the filter from flags; any flag that does not parse is a usage error (exit 2). */
export function filterFromFlags(opts: { since?: string; until?: string; outcome?: string; repository?: string }, now = new Date()): ExportFilter {
  const filter: ExportFilter = {};
  if (opts.since !== undefined) filter.since = parseTimeBound(opts.since, '--since', now);
  if (opts.until !== undefined) filter.until = parseTimeBound(opts.until, '--until', now);
  const outcome = parseOutcome(opts.outcome);
  if (outcome) filter.outcome = outcome;
  if (opts.repository !== undefined) filter.repository = opts.repository;
  if (filter.since && filter.until && filter.since >= filter.until) throw new InputError('USAGE', '--since must be before --until');
  return filter;
}

export function registerAuditExport(audit: Command): void {
  audit
    .command('export')
    .description('export the audit log (all rotated files, in order) as JSON Lines, CSV or OCSF API Activity events, streaming')
    .option('--log <file>', 'the active log file (default: audit.path from --config)')
    .option('--config <file>', 'take the log path from a configuration file')
    .option('--format <format>', 'jsonl, csv or ocsf', 'jsonl')
    .option('--since <time>', 'records at or after: RFC 3339 (2026-01-31, 2026-01-31T12:00:00Z) or an age (24h, 7d)')
    .option('--until <time>', 'records before: same forms as --since')
    .option('--outcome <outcome>', 'decisions with this outcome only: allow, deny or bad_request')
    .option('--repository <url>', 'records of this repository only (exact)')
    .option('--out <file>', 'write to this file (fsync’d at the end) instead of stdout')
    .option('--mark-exported', 'after a complete, unfiltered export: mark the rotated files as exported, so retention may delete them')
    .action(async (opts: Options) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(opts.format)) throw new InputError('USAGE', `--format must be jsonl, csv or ocsf, not ${opts.format}`);
      const format = opts.format as ExportFormat;
      const filter = filterFromFlags(opts);
      if (opts.markExported && isFiltered(filter)) throw new InputError('USAGE', '--mark-exported needs a complete export: leave out --since, --until, --outcome and --repository');
      const config = await auditConfigFrom(opts);
      const files = await exportFiles(config.path);
      const bar = new ProgressBar(files.reduce((n, f) => n + f.bytes, 0), 'exporting (bytes)');
      let done = 0;
      let skipped = 0;
      const complete: Array<{ file: ExportFile; records: number }> = [];
      const chunks = exportChunks(files, {
        format,
        filter,
        onBytes: (n) => bar.tick((done += n)),
        onSkipped: () => skipped++,
        onFileDone: (file, records) => complete.push({ file, records }),
      });
      // Only a regular file (or a new one) is removed after a failure; a device or pipe never is.
      const removable = opts.out !== undefined && (await lstat(opts.out).then((s) => s.isFile(), () => true));
      const destination = opts.out !== undefined ? createWriteStream(opts.out, { flush: true, mode: 0o640 }) : process.stdout;
      try {
        await pipeline(Readable.from(chunks), destination);
      } catch (err) {
        bar.done();
        if (removable) await unlink(opts.out!).catch(() => {});
        if (err instanceof SyncgateError) throw err;
        const errno = (err as NodeJS.ErrnoException).code ?? 'error';
        if (errno === 'EPIPE') return;
        process.stderr.write(`syncgate: AUDIT_EXPORT_FAILED: cannot write the export to ${opts.out ?? 'stdout'} (${errno}); nothing was marked exported\n`);
        process.exitCode = EXIT_FAIL;
        return;
      }
      bar.done();
      if (skipped > 0) process.stderr.write(`syncgate: warning: ${skipped} line(s) that are not records were skipped; run \`syncgate audit verify\`\n`);
      if (opts.markExported) {
        const target = opts.out !== undefined ? path.resolve(opts.out) : 'stdout';
        for (const c of complete.filter((x) => x.file.rotated)) await markExported(c.file.file, { format, records: c.records, destination: target });
      }
      process.exitCode = EXIT_OK;
    });
}
