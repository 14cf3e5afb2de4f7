import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { AuditError } from '../errors.js';
import { checkpointShapeProblem, checkpointSignatureValid, keyIdOf, MIRROR_KIND, type Checkpoint } from './checkpoint.js';
import { readLines, type Line } from './lines.js';
import { GENESIS_HASH, type AuditRecord } from './record.js';
import { logPaths, type SegmentInfo } from './segments.js';
import { snapshotLog } from './snapshot.js';
import { parseRecordLine } from './tail.js';
import { nodeFileSystem } from './writer.js';

/** What is wrong (docs/audit.md §7). */
export type ProblemKind = 'modified' | 'malformed' | 'deleted' | 'reordered' | 'truncated' | 'bad-checkpoint' | 'missing-file';

const CODES: Record<ProblemKind, string> = {
  modified: 'AUDIT_RECORD_MODIFIED',
  malformed: 'AUDIT_RECORD_MALFORMED',
  deleted: 'AUDIT_RECORD_DELETED',
  reordered: 'AUDIT_RECORD_REORDERED',
  truncated: 'AUDIT_LOG_TRUNCATED',
  'bad-checkpoint': 'AUDIT_CHECKPOINT_INVALID',
  'missing-file': 'AUDIT_FILE_MISSING',
};

export interface VerifyProblem {
  code: string;
  kind: ProblemKind;
  /** The first bad sequence number, when one can be named. */
  seq: number | null;
  file: string;
  line?: number;
  message: string;
}

export interface VerifiedFile {
  file: string;
  status: 'verified' | 'deleted by retention' | 'missing' | 'not reached';
  firstSeq: number | null;
  lastSeq: number | null;
  records: number;
}

export interface VerifyReport {
  valid: boolean;
  log: string;
  logId: string | null;
  files: VerifiedFile[];
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  head: string | null;
  checkpoints: { count: number; signaturesChecked: boolean; keyId: string | null; lastSeq: number | null };
  mirror: { file: string; checkpoints: number; compared: number } | null;
  /** Records after the last checkpoint: covered by the chain only, not by a signature. */
  uncheckpointed: number;
  warnings: string[];
  problem: VerifyProblem | null;
}

export interface VerifyOptions {
  /** Ed25519 public key: checkpoint signatures are checked only when it is given. */
  publicKey?: KeyObject;
  /** A file of mirrored checkpoints (JSON lines) to compare the log with. */
  mirrorFile?: string;
  maxLineBytes?: number;
  /** Progress: bytes read. */
  onBytes?: (n: number) => void;
  /** With a key: fail when more than this many records follow the last checkpoint. */
  maxUncheckpointed?: number;
}

const REORDER_LOOKAHEAD = 10_000;

class Stop extends Error {
  constructor(readonly problem: VerifyProblem) {
    super(problem.message);
  }
}

function stop(kind: ProblemKind, seq: number | null, file: string, message: string, line?: number): never {
  throw new Stop({ code: CODES[kind], kind, seq, file, ...(line !== undefined ? { line } : {}), message });
}

/** Best effort: the seq a damaged line claims, for the report. */
function claimedSeq(text: string | undefined): number | undefined {
  const m = text === undefined ? null : /"seq":(\d{1,15})[,}]/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Pulls mirrored checkpoints in order, skipping ones of other logs. */
class MirrorCursor {
  private readonly it: AsyncIterator<Line>;
  private peeked: Checkpoint | undefined | null = null;
  count = 0;
  compared = 0;
  otherLogs = 0;

  constructor(
    readonly file: string,
    private logId: () => string | null,
    private readonly key: KeyObject | undefined,
    private readonly warnings: string[],
  ) {
    this.it = readLines(file)[Symbol.asyncIterator]();
  }

  async peek(): Promise<Checkpoint | undefined> {
    while (this.peeked === null) {
      let next: IteratorResult<Line>;
      try {
        next = await this.it.next();
      } catch (err) {
        // a directory, no permission, an I/O error: named like any other unreadable audit file
        throw new AuditError('AUDIT_LOG_UNREADABLE', `${this.file}: the checkpoint mirror cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file: this.file });
      }
      if (next.done) {
        this.peeked = undefined;
        break;
      }
      const line = next.value;
      let value: unknown;
      try {
        value = line.text === undefined ? undefined : JSON.parse(line.text);
      } catch {
        value = undefined;
      }
      const kindOk = value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === MIRROR_KIND;
      const shape = kindOk ? checkpointShapeProblem(value) : 'not a mirrored checkpoint';
      if (shape) {
        this.warnings.push(`${this.file}:${line.lineNo}: skipped (${shape})`);
        continue;
      }
      const cp = value as Checkpoint;
      const id = this.logId();
      if (id !== null && cp.logId !== id) {
        this.otherLogs++;
        continue;
      }
      this.count++;
      if (this.key && (cp.keyId !== keyIdOf(this.key) || !checkpointSignatureValid(this.key, cp))) {
        stop('bad-checkpoint', cp.seq, this.file, `the checkpoint mirrored at ${this.file}:${line.lineNo} (seq ${cp.seq}) does not verify with the given key`, line.lineNo);
      }
      this.peeked = cp;
    }
    return this.peeked ?? undefined;
  }

  take(): void {
    if (this.peeked) this.peeked = null;
  }

  async close(): Promise<void> {
    await this.it.return?.(undefined);
  }
}

/**
 * Verifies a whole log: every record's hash and encoding, the chain across rotated files in
 * order, every checkpoint (position, log id, and signature when a key is given), and, with a
 * mirror, that the log still reaches every mirrored checkpoint. Stops at the first problem and
 * names the first bad sequence number. Never throws on bad content; throws AuditError
 * (AUDIT_LOG_UNREADABLE) only when there is nothing to read or a file cannot be opened.
 */
export async function verifyLog(logFile: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const fs = nodeFileSystem;
  const paths = logPaths(logFile);
  const warnings: string[] = [];
  let snap;
  try {
    snap = await snapshotLog(logFile);
  } catch (err) {
    throw new AuditError('AUDIT_LOG_UNREADABLE', `${paths.dir}: cannot read the log (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file: logFile });
  }
  const read = snap.manifest;
  if ('problem' in read && read.problem) warnings.push(`${read.problem}; verifying from the file names alone`);
  const manifest = read.manifest;
  const segments = snap.segments;
  const activeHandle = snap.active;
  const activePresent = activeHandle !== undefined;
  if (!activePresent && !segments.some((s) => s.present)) {
    throw new AuditError('AUDIT_LOG_UNREADABLE', `${logFile}: no audit log there (no active file and no rotated segments)`, { file: logFile });
  }

  const key = options.publicKey;
  const keyId = key ? keyIdOf(key) : null;
  let logId: string | null = manifest?.logId ?? null;
  const report: VerifyReport = {
    valid: false,
    log: logFile,
    logId,
    files: [],
    records: 0,
    firstSeq: null,
    lastSeq: null,
    head: null,
    checkpoints: { count: 0, signaturesChecked: Boolean(key), keyId, lastSeq: null },
    mirror: null,
    uncheckpointed: 0,
    warnings,
    problem: null,
  };
  const mirror = options.mirrorFile ? new MirrorCursor(options.mirrorFile, () => logId, key, warnings) : undefined;
  if (mirror && !(await fs.exists(mirror.file).catch(() => false))) {
    throw new AuditError('AUDIT_LOG_UNREADABLE', `${mirror.file}: the checkpoint mirror cannot be read (ENOENT)`, { file: mirror.file });
  }

  let expected = { seq: 1, prevHash: GENESIS_HASH };
  let verifiedAny = false;
  let lastCheckpointSeq: number | null = null;
  const files: Array<{ file: string; info?: SegmentInfo; active: boolean }> = [];

  try {
    for (const seg of segments) {
      if (!seg.present) {
        const info = seg.info!;
        // Retention deletes the oldest files only: a file deleted after a verified one is a gap,
        // whatever the manifest (which is not signed) says.
        if (info.deleted && !verifiedAny) {
          report.files.push({ file: seg.file, status: 'deleted by retention', firstSeq: info.firstSeq, lastSeq: info.lastSeq, records: 0 });
          expected = { seq: info.lastSeq + 1, prevHash: info.lastHash };
          continue;
        }
        report.files.push({ file: seg.file, status: 'missing', firstSeq: info.firstSeq, lastSeq: info.lastSeq, records: 0 });
        stop('missing-file', info.firstSeq, seg.file, `the rotated file ${path.basename(seg.file)} (records ${info.firstSeq}..${info.lastSeq}) is missing`);
      }
      files.push({ file: seg.file, ...(seg.info ? { info: seg.info } : {}), active: false });
      // Verify the files in order, so a missing file is reported at its place in the chain.
      await verifyFile(files.at(-1)!);
    }
    if (activePresent) {
      files.push({ file: logFile, active: true });
      await verifyFile(files.at(-1)!);
    }
    if (mirror) {
      for (let cp = await mirror.peek(); cp; cp = await mirror.peek()) {
        mirror.take();
        if (cp.seq >= expected.seq) {
          stop('truncated', expected.seq, logFile, `the log ends at seq ${expected.seq - 1}, but a checkpoint mirrored to ${mirror.file} covers seq ${cp.seq}: records after ${expected.seq - 1} were removed`);
        }
      }
    }
    const lastSeq = expected.seq - 1;
    if (key && lastSeq > 0 && report.checkpoints.count === 0) {
      stop('bad-checkpoint', null, logFile, 'the log has no checkpoint at all: nothing in it is signed (was it written without a signing key, or were the checkpoints removed?)');
    }
    const unsigned = lastSeq - (lastCheckpointSeq !== null ? lastCheckpointSeq + 1 : 0);
    if (options.maxUncheckpointed !== undefined && unsigned > options.maxUncheckpointed) {
      stop('truncated', lastCheckpointSeq !== null ? lastCheckpointSeq + 2 : 1, logFile, `${unsigned} records follow the last checkpoint (more than the allowed ${options.maxUncheckpointed}): they are not covered by a signature`);
    }
    report.valid = true;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    report.problem = err.problem;
  } finally {
    await mirror?.close();
    await snap.close();
  }
  if (mirror) {
    report.mirror = { file: mirror.file, checkpoints: mirror.count, compared: mirror.compared };
    if (mirror.otherLogs > 0) warnings.push(`${mirror.otherLogs} mirrored checkpoint(s) belong to other logs and were skipped`);
  }
  report.logId = logId;
  report.lastSeq = expected.seq > 1 ? expected.seq - 1 : null;
  report.head = report.lastSeq !== null ? expected.prevHash : null;
  report.checkpoints.lastSeq = lastCheckpointSeq;
  report.uncheckpointed = report.lastSeq !== null ? Math.max(0, report.lastSeq - (lastCheckpointSeq !== null ? lastCheckpointSeq + 1 : 0)) : 0;
  if (report.valid && !key && report.checkpoints.count > 0) warnings.push('checkpoint signatures were not checked: give the audit public key (--key)');
  return report;

  async function verifyFile(entry: { file: string; info?: SegmentInfo; active: boolean }): Promise<void> {
    const { file, info, active } = entry;
    const stats: VerifiedFile = { file, status: 'verified', firstSeq: null, lastSeq: null, records: 0 };
    report.files.push(stats);
    const it = readLines(file, {
      ...(options.maxLineBytes ? { maxLineBytes: options.maxLineBytes } : {}),
      ...(options.onBytes ? { onBytes: options.onBytes } : {}),
      ...(active && activeHandle ? { handle: activeHandle } : {}),
    })[
      Symbol.asyncIterator
    ]();
    try {
      for (;;) {
        let next: IteratorResult<Line>;
        try {
          next = await it.next();
        } catch (err) {
          throw new AuditError('AUDIT_LOG_UNREADABLE', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file });
        }
        if (next.done) break;
        const line = next.value;
        const where = `${path.basename(file)}:${line.lineNo}`;
        if (!line.terminated) {
          if (active) {
            warnings.push(`${where}: the last line is incomplete (${line.bytes} bytes): a write in progress or a crash; the gate cuts it off when it opens the log`);
            break;
          }
          stop('truncated', claimedSeq(line.text) ?? expected.seq, file, `${where}: the rotated file ends in an incomplete line`, line.lineNo);
        }
        if (line.text === undefined) stop('malformed', expected.seq, file, `${where}: the line is ${line.problem}`, line.lineNo);
        const parsed = parseRecordLine(line.text);
        if ('problem' in parsed) stop(parsed.kind, claimedSeq(line.text) ?? expected.seq, file, `${where}: ${parsed.problem}`, line.lineNo);
        const r = parsed.record;
        if (r.seq !== expected.seq) await sequenceProblem(r, line, it, file, stats.records === 0);
        if (r.prevHash !== expected.prevHash) {
          if (r.seq === 1 || !verifiedAny) {
            stop('modified', r.seq, file, `${where}: record ${r.seq} does not start the chain where expected (its prevHash is not ${expected.prevHash === GENESIS_HASH ? 'the genesis hash' : 'the hash of the last record before it'})`, line.lineNo);
          }
          stop('modified', r.seq - 1, file, `${where}: record ${r.seq} does not chain to record ${r.seq - 1}: record ${r.seq - 1} was rewritten (and rehashed), or the prevHash of ${r.seq} was changed`, line.lineNo);
        }
        if (r.type === 'audit.checkpoint') checkCheckpoint(r, file, where, line.lineNo);
        if (mirror) await compareMirror(r, file, where, line.lineNo);
        verifiedAny = true;
        report.records++;
        report.firstSeq ??= r.seq;
        stats.firstSeq ??= r.seq;
        stats.lastSeq = r.seq;
        stats.records++;
        expected = { seq: r.seq + 1, prevHash: r.hash };
      }
    } finally {
      await it.return?.(undefined);
    }
    if (!active) {
      if (stats.records === 0) stop('truncated', expected.seq, file, `${path.basename(file)}: the rotated file is empty`);
      if (info && (info.lastSeq !== stats.lastSeq || info.lastHash !== expected.prevHash)) {
        const kind = info.lastSeq > (stats.lastSeq ?? 0) ? 'truncated' : 'modified';
        stop(kind, Math.min(info.lastSeq, stats.lastSeq ?? info.lastSeq), file, `${path.basename(file)}: the manifest says this file ends at seq ${info.lastSeq} (hash ${info.lastHash.slice(0, 12)}…), it ends at seq ${stats.lastSeq}`);
      }
    }
  }

  async function sequenceProblem(r: AuditRecord, line: Line, it: AsyncIterator<Line>, file: string, firstOfLaterFile: boolean): Promise<never> {
    const where = `${path.basename(file)}:${line.lineNo}`;
    if (r.seq < expected.seq) {
      stop('reordered', r.seq, file, `${where}: record ${r.seq} appears after record ${expected.seq - 1} (out of order or duplicated)`, line.lineNo);
    }
    if (firstOfLaterFile) {
      stop(
        'missing-file',
        expected.seq,
        file,
        `${where}: records ${expected.seq}..${r.seq - 1} are missing before ${path.basename(file)}: a rotated file was deleted${verifiedAny ? '' : ' (and no retention deletion is recorded in the manifest)'}`,
        line.lineNo,
      );
    }
    // A later record where an earlier one belongs: if the earlier one turns up soon after, the
    // lines were reordered; otherwise records were deleted.
    for (let i = 0; i < REORDER_LOOKAHEAD; i++) {
      const next = await it.next();
      if (next.done) break;
      const seq = claimedSeq(next.value.text);
      if (seq === expected.seq) {
        stop('reordered', expected.seq, file, `${where}: record ${r.seq} comes before record ${expected.seq} (line ${next.value.lineNo}): the records were reordered`, line.lineNo);
      }
    }
    stop('deleted', expected.seq, file, `${where}: records ${expected.seq}..${r.seq - 1} are missing (deleted) before record ${r.seq}`, line.lineNo);
  }

  function checkCheckpoint(r: AuditRecord, file: string, where: string, lineNo: number): void {
    const shape = checkpointShapeProblem(r.checkpoint);
    if (shape) stop('bad-checkpoint', r.seq, file, `${where}: ${shape}`, lineNo);
    const cp = r.checkpoint as Checkpoint;
    if (cp.seq !== r.seq - 1 || cp.head !== r.prevHash) {
      stop('bad-checkpoint', r.seq, file, `${where}: the checkpoint at seq ${r.seq} claims seq ${cp.seq} / head ${cp.head.slice(0, 12)}…, not the record before it`, lineNo);
    }
    logId ??= cp.logId;
    if (cp.logId !== logId) stop('bad-checkpoint', r.seq, file, `${where}: the checkpoint belongs to log ${cp.logId}, not ${logId}`, lineNo);
    if (key) {
      if (cp.keyId !== keyId) stop('bad-checkpoint', r.seq, file, `${where}: the checkpoint was signed by key ${cp.keyId}, not by the given key ${keyId}`, lineNo);
      if (!checkpointSignatureValid(key, cp)) stop('bad-checkpoint', r.seq, file, `${where}: the checkpoint signature does not verify`, lineNo);
    }
    report.checkpoints.count++;
    lastCheckpointSeq = cp.seq;
  }

  async function compareMirror(r: AuditRecord, file: string, where: string, lineNo: number): Promise<void> {
    for (let cp = await mirror!.peek(); cp && cp.seq <= r.seq; cp = await mirror!.peek()) {
      mirror!.take();
      if (cp.seq < r.seq) {
        // Before the first verified record (retention) or already passed: nothing to compare.
        if (verifiedAny) warnings.push(`${mirror!.file}: a mirrored checkpoint for seq ${cp.seq} is out of order`);
        continue;
      }
      mirror!.compared++;
      if (cp.head !== r.hash) {
        stop('modified', r.seq, file, `${where}: record ${r.seq} is not the record the checkpoint mirrored to ${mirror!.file} signed (hash ${cp.head.slice(0, 12)}…): the log was rewritten`, lineNo);
      }
    }
  }
}
