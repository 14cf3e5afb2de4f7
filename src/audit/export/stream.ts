import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AuditError } from '../../errors.js';
import { readLines } from '../lines.js';
import { recordShapeProblem, type AuditRecord } from '../record.js';
import { findSegments, logPaths, readManifest } from '../segments.js';
import { nodeFileSystem } from '../writer.js';
import { csvHeader, csvRow } from './csv.js';
import { matches, type ExportFilter } from './filter.js';
import { toOcsf } from './ocsf.js';

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
}

/** The files of a log in chain order, with their sizes (for a progress bar). */
export async function exportFiles(logFile: string): Promise<ExportFile[]> {
  const paths = logPaths(logFile);
  const read = await readManifest(paths);
  const segments = await findSegments(nodeFileSystem, paths, read.manifest);
  const files: ExportFile[] = [];
  for (const s of segments.filter((x) => x.present)) files.push({ file: s.file, bytes: (await stat(s.file)).size, rotated: true });
  try {
    files.push({ file: logFile, bytes: (await stat(logFile)).size, rotated: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (files.length === 0) throw new AuditError('AUDIT_LOG_UNREADABLE', `${logFile}: no audit log there (no active file and no rotated segments)`, { file: logFile });
  return files;
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
  for (const f of files) {
    let records = 0;
    for await (const line of readLines(f.file, options.onBytes ? { onBytes: options.onBytes } : {})) {
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
            : `${JSON.stringify(toOcsf(record, { version: options.productVersion ?? '0.1.0' }))}\n`;
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
  if (buffer.length > 0) yield buffer.join('');
}
