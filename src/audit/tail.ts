import { createHash } from 'node:crypto';
import { AuditError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import { recordHash, recordShapeProblem, type AuditRecord } from './record.js';
import type { AppendFile } from './writer.js';

/** Checks one stored line: JSON, record shape, canonical encoding, hash. Returns the record or why not. */
export function parseRecordLine(text: string): { record: AuditRecord } | { problem: string; kind: 'malformed' | 'modified' } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'the line is not valid JSON', kind: 'malformed' };
  }
  const shape = recordShapeProblem(value);
  if (shape) return { problem: shape, kind: 'malformed' };
  const record = value as AuditRecord;
  const { hash, ...rest } = record;
  if (canonicalJson(record) !== text) {
    return { problem: recordHash(rest) !== hash ? "the record's hash does not match its contents" : 'the line is not in canonical form (its bytes were edited)', kind: 'modified' };
  }
  // The line is canonical, so the canonical form without `hash` is the line without that member
  // (a top-level key, and always preceded by another: "clock" sorts first).
  const member = `,"hash":"${hash}"`;
  const at = text.indexOf(member);
  const body = at === -1 ? undefined : text.slice(0, at) + text.slice(at + member.length);
  if (body === undefined || createHash('sha256').update(body).digest('hex') !== hash) {
    return { problem: "the record's hash does not match its contents", kind: 'modified' };
  }
  return { record };
}

export interface TailState {
  /** Byte length of the file up to and including the last complete line. */
  goodSize: number;
  /** The last complete record, or undefined when the file has none. */
  last: AuditRecord | undefined;
  /** Bytes after the last complete line (a torn write), 0 when the file ends with a newline. */
  tornBytes: number;
  /** sha256 of the torn bytes, for the repair record. */
  tornDigest?: string;
}

const MAX_WINDOW = 64 * 1024 * 1024;

/**
 * Reads the end of a log file: where its last complete line ends, that line's record, and how
 * many bytes of a torn last line follow it. A complete last line that is not a valid record is
 * an error (AUDIT_LOG_CORRUPT): that is not a crash, and is not repaired silently.
 */
export async function readTail(file: AppendFile, name: string): Promise<TailState> {
  const size = await file.size();
  if (size === 0) return { goodSize: 0, last: undefined, tornBytes: 0 };
  let window = Math.min(size, 64 * 1024);
  for (;;) {
    const start = size - window;
    const buf = await file.read(start, window);
    const torn = buf[buf.length - 1] !== 0x0a;
    const lastNl = buf.lastIndexOf(0x0a);
    const prevNl = lastNl > 0 ? buf.lastIndexOf(0x0a, lastNl - 1) : -1;
    const haveWholeLastLine = lastNl !== -1 && (prevNl !== -1 || start === 0);
    if (lastNl === -1 && start === 0) {
      // Not one complete line in the whole file: everything is torn.
      return { goodSize: 0, last: undefined, tornBytes: size, tornDigest: createHash('sha256').update(buf).digest('hex') };
    }
    if (haveWholeLastLine) {
      const goodSize = start + lastNl + 1;
      const text = buf.subarray(prevNl + 1, lastNl).toString('utf8');
      const parsed = parseRecordLine(text);
      if ('problem' in parsed) {
        throw new AuditError('AUDIT_LOG_CORRUPT', `${name}: the last complete record is not valid (${parsed.problem}); run \`syncgate audit verify\``, { file: name });
      }
      const tornBytes = torn ? size - goodSize : 0;
      return {
        goodSize,
        last: parsed.record,
        tornBytes,
        ...(tornBytes > 0 ? { tornDigest: createHash('sha256').update(buf.subarray(lastNl + 1)).digest('hex') } : {}),
      };
    }
    if (window >= MAX_WINDOW || window === size) {
      throw new AuditError('AUDIT_LOG_CORRUPT', `${name}: no complete record in the last ${window} bytes`, { file: name });
    }
    window = Math.min(size, window * 4, MAX_WINDOW);
  }
}
