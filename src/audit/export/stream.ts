import { stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AuditError } from '../../errors.js';
import { readLines } from '../lines.js';
import { recordShapeProblem, type AuditRecord } from '../record.js';
import { snapshotLog } from '../snapshot.js';
import { csvHeader, csvRow } from './csv.js';
import { matches, type ExportFilter } from './filter.js';
import { toOcsf } from './ocsf.js';
import { VERSION } from '../../package-root.js';

export type ExportFormat = 'jsonl' | 'csv' | 'ocsf';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv', 'ocsf'];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  ocsf: 'application/x-ndjson; charset=utf-8',
};

export interface ExportFile {
  file: string;
  bytes: number;
  /** Rotated segment (not the active file). */
  rotated: boolean;
  /** The active file, opened when the files were listed; exportChunks closes it. */
  handle?: FileHandle;
}

/** The files of a log in chain order, with their sizes (for a progress bar); the active file is held open. */
export async function exportFiles(logFile: string): Promise<ExportFile[]> {
  const snap = await snapshotLog(logFile);
  const files: ExportFile[] = [];
  let file = logFile;
  try {
    for (const s of snap.segments.filter((x) => x.present)) {
      file = s.file;
      files.push({ file: s.file, bytes: (await stat(s.file)).size, rotated: true });
    }
    file = logFile;
    if (snap.active) files.push({ file: logFile, bytes: (await snap.active.stat()).size, rotated: false, handle: snap.active });
  } catch (err) {
    // e.g. a segment deleted by retention since the snapshot: the held active file is released
    await snap.active?.close().catch(() => {});
    throw new AuditError('AUDIT_LOG_UNREADABLE', `${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`, { file });
  }
  if (files.length === 0) throw new AuditError('AUDIT_LOG_UNREADABLE', `${logFile}: no audit log there (no active file and no rotated segments)`, { file: logFile });
  return files;
}

/** Releases what exportFiles opened, when the files are not going to be read. */
export async function closeFiles(files: ExportFile[]): Promise<void> {
  for (const f of files) await f.handle?.close().catch(() => {});
}

export interface ExportOptions {
  format: ExportFormat;
  filter: ExportFilter;
  onBytes?: (n: number) => void;
  /** Lines that are not records (a torn tail, damage): counted and skipped. */
  onSkipped?: (file: string, lineNo: number) => void;
  /** Called after each file has been read to its end. */
  onFileDone?: (file: ExportFile, records: number) => void;
  productVersion?: string;
}

const CHUNK = 64 * 1024;

/**
 * The export as a stream of text chunks (~64 KiB), reading one line at a time: memory stays
 * constant whatever the log's size, and a consumer that stops pulling (backpressure) stops
 * the reading too. JSON Lines passes each stored line through byte for byte.
 */
export async function* exportChunks(files: ExportFile[], options: ExportOptions): AsyncGenerator<string> {
  let buffer: string[] = [];
  let size = 0;
  if (options.format === 'csv') {
    buffer.push(csvHeader());
    size += buffer[0]!.length;
  }
  try {
  for (const f of files) {
    let records = 0;
    for await (const line of readLines(f.file, { ...(options.onBytes ? { onBytes: options.onBytes } : {}), ...(f.handle ? { handle: f.handle } : {}) })) {
      let record: AuditRecord | undefined;
      if (line.text !== undefined && line.terminated) {
        try {
          const value = JSON.parse(line.text) as unknown;
          if (!recordShapeProblem(value)) record = value as AuditRecord;
        } catch {
          record = undefined;
        }
      }
      if (!record) {
        options.onSkipped?.(path.basename(f.file), line.lineNo);
        continue;
      }
      records++;
      if (!matches(record, options.filter)) continue;
      const out =
        options.format === 'jsonl'
          ? `${line.text}\n`
          : options.format === 'csv'
            ? csvRow(record)
            : `${JSON.stringify(toOcsf(record, { version: options.productVersion ?? VERSION }))}\n`;
      buffer.push(out);
      size += out.length;
      if (size >= CHUNK) {
        yield buffer.join('');
        buffer = [];
        size = 0;
      }
    }
    options.onFileDone?.(f, records);
  }
  } finally {
    for (const f of files) await f.handle?.close().catch(() => {});
  }
  if (buffer.length > 0) yield buffer.join('');
}
