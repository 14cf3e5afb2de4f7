import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AuditError } from '../errors.js';
import { readLines } from './lines.js';
import type { AuditRecord } from './record.js';
import { parseRecordLine } from './tail.js';
import type { AuditFileSystem } from './writer.js';

/**
 * File layout of one log (docs/audit.md §5):
 *   audit.jsonl                     the active file (the configured path)
 *   audit.000000000001.jsonl        rotated segments, named by the seq of their first record
 *   audit.manifest.json             log id and what is known about every segment
 *   audit.000000000001.jsonl.exported   marker: this segment was exported (retention may delete it)
 * Zero-padded names sort in chain order; the manifest is a cache plus retention state and is
 * rebuilt from the names when a crash left it behind.
 */
export interface LogPaths {
  dir: string;
  active: string;
  manifest: string;
  stem: string;
  ext: string;
}

const SEQ_DIGITS = 12;

export function logPaths(activeFile: string): LogPaths {
  const dir = path.dirname(activeFile);
  const base = path.basename(activeFile);
  const ext = path.extname(base);
  const stem = ext ? base.slice(0, -ext.length) : base;
  return { dir, active: activeFile, manifest: path.join(dir, `${stem}.manifest.json`), stem, ext };
}

export function segmentName(paths: LogPaths, firstSeq: number): string {
  return `${paths.stem}.${String(firstSeq).padStart(SEQ_DIGITS, '0')}${paths.ext}`;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The first seq encoded in a segment's file name, or undefined when the name is not a segment. */
export function segmentSeq(paths: LogPaths, name: string): number | undefined {
  const m = new RegExp(`^${escapeRe(paths.stem)}\\.(\\d{${SEQ_DIGITS}})${escapeRe(paths.ext)}$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

export const exportedMarker = (segmentFile: string) => `${segmentFile}.exported`;

export interface SegmentInfo {
  /** File name, relative to the log's directory. */
  file: string;
  firstSeq: number;
  lastSeq: number;
  firstPrevHash: string;
  lastHash: string;
  firstTime: string;
  lastTime: string;
  bytes: number;
  rotatedAt: string;
  /** Set when retention deleted the file: verification starts after it. */
  deleted?: { at: string; reason: string };
}

export interface Manifest {
  kind: 'syncgate.audit.manifest';
  v: 1;
  logId: string;
  createdAt: string;
  segments: SegmentInfo[];
}

const HEX64 = /^[0-9a-f]{64}$/;

function validSegment(s: unknown): s is SegmentInfo {
  if (s === null || typeof s !== 'object') return false;
  const o = s as Record<string, unknown>;
  return (
    typeof o.file === 'string' &&
    !o.file.includes('/') &&
    !o.file.includes('\\') &&
    Number.isSafeInteger(o.firstSeq) &&
    Number.isSafeInteger(o.lastSeq) &&
    (o.lastSeq as number) >= (o.firstSeq as number) &&
    typeof o.firstPrevHash === 'string' &&
    HEX64.test(o.firstPrevHash) &&
    typeof o.lastHash === 'string' &&
    HEX64.test(o.lastHash)
  );
}

export type ManifestRead = { manifest: Manifest } | { manifest: undefined; problem?: string };

/** Reads and checks the manifest; a missing file is not a problem, a malformed one is reported. */
export async function readManifest(paths: LogPaths): Promise<ManifestRead> {
  let text: string;
  try {
    text = await readFile(paths.manifest, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { manifest: undefined };
    return { manifest: undefined, problem: `${paths.manifest}: cannot read the manifest (${code ?? 'error'})` };
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (m?.kind !== 'syncgate.audit.manifest' || typeof m.logId !== 'string' || !Array.isArray(m.segments) || !m.segments.every(validSegment)) {
      return { manifest: undefined, problem: `${paths.manifest}: not a valid audit manifest` };
    }
    m.segments.sort((a, b) => a.firstSeq - b.firstSeq);
    return { manifest: m };
  } catch {
    return { manifest: undefined, problem: `${paths.manifest}: not valid JSON` };
  }
}

export async function writeManifest(fs: AuditFileSystem, paths: LogPaths, manifest: Manifest): Promise<void> {
  await fs.writeAtomic(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** One rotated segment as found by a reader: by name on disk, in the manifest, or both. */
export interface FoundSegment {
  file: string;
  firstSeq: number;
  present: boolean;
  info?: SegmentInfo;
  exported: boolean;
}

/** Segments in chain order (by first seq), from the directory listing joined with the manifest. */
export async function findSegments(fs: AuditFileSystem, paths: LogPaths, manifest: Manifest | undefined): Promise<FoundSegment[]> {
  let names: string[] = [];
  try {
    names = await fs.readdir(paths.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const nameSet = new Set(names);
  const bySeq = new Map<number, FoundSegment>();
  for (const name of names) {
    const seq = segmentSeq(paths, name);
    if (seq === undefined) continue;
    bySeq.set(seq, { file: path.join(paths.dir, name), firstSeq: seq, present: true, exported: nameSet.has(`${name}.exported`) });
  }
  for (const info of manifest?.segments ?? []) {
    const found = bySeq.get(info.firstSeq);
    if (found) found.info = info;
    else bySeq.set(info.firstSeq, { file: path.join(paths.dir, info.file), firstSeq: info.firstSeq, present: false, info, exported: nameSet.has(`${info.file}.exported`) });
  }
  return [...bySeq.values()].sort((a, b) => a.firstSeq - b.firstSeq);
}

/** First and last records of a complete segment file (used when a crash left it out of the manifest). */
export async function describeSegment(file: string, rotatedAt: string): Promise<SegmentInfo> {
  let first: AuditRecord | undefined;
  let last: AuditRecord | undefined;
  let bytes = 0;
  for await (const line of readLines(file)) {
    bytes += line.bytes + (line.terminated ? 1 : 0);
    const parsed = line.text === undefined ? undefined : parseRecordLine(line.text);
    if (!parsed || 'problem' in parsed || !line.terminated) {
      throw new AuditError('AUDIT_LOG_CORRUPT', `${file}:${line.lineNo}: not a valid record; run \`syncgate audit verify\``, { file, line: line.lineNo });
    }
    first ??= parsed.record;
    last = parsed.record;
  }
  if (!first || !last) throw new AuditError('AUDIT_LOG_CORRUPT', `${file}: a rotated segment is empty`, { file });
  return {
    file: path.basename(file),
    firstSeq: first.seq,
    lastSeq: last.seq,
    firstPrevHash: first.prevHash,
    lastHash: last.hash,
    firstTime: first.time,
    lastTime: last.time,
    bytes,
    rotatedAt,
  };
}

/** The first record of a segment file, if its first line is one. */
export async function firstRecordOf(file: string): Promise<AuditRecord | undefined> {
  for await (const line of readLines(file)) {
    const parsed = line.text === undefined ? undefined : parseRecordLine(line.text);
    return parsed && 'record' in parsed ? parsed.record : undefined;
  }
  return undefined;
}
