import { randomUUID, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditError } from '../errors.js';
import { signCheckpoint, type CheckpointMirror } from './checkpoint.js';
import { AuditWriteError } from './errors.js';
import { sanitizeEvent } from './events.js';
import { applyRetention, type RetentionPolicy } from './retention.js';
import { GENESIS_HASH, sealRecordLine, type AuditEvent, type AuditRecord } from './record.js';
import { rotationDue, type RotationPolicy } from './rotation.js';
import { describeSegment, findSegments, firstRecordOf, logPaths, readManifest, segmentName, writeManifest, type LogPaths, type Manifest, type SegmentInfo } from './segments.js';
import { readTail } from './tail.js';
import { nodeFileSystem, type AppendFile, type AuditFileSystem } from './writer.js';

export interface CheckpointOptions {
  /** Ed25519 private key (see loadSigningKey). */
  key: KeyObject;
  /** Sign after this many records (default 1000). */
  everyRecords?: number;
  /** And at least this often while records arrive (default 60 s). */
  everyMs?: number;
  /** Second places to copy every checkpoint to. */
  mirrors?: CheckpointMirror[];
}

export interface AuditLogOptions {
  clock?: () => Date;
  /** Recorded in every record's `clock` field (default "system"). */
  clockSource?: string;
  rotation?: RotationPolicy;
  retention?: RetentionPolicy;
  checkpoints?: CheckpointOptions;
  /** File operations (tests inject faults here). */
  fs?: AuditFileSystem;
  /** Problems that do not fail an append: a mirror, manifest or retention failure. */
  onWarning?: (message: string, err?: unknown) => void;
}

/** What open() found and repaired after a crash. */
export interface RepairInfo {
  file: string;
  truncatedBytes: number;
  discardedDigest: string;
  keptSeq: number;
  keptHash: string;
}

type Pending =
  | { kind: 'event'; event: AuditEvent; resolve: (r: AuditRecord) => void; reject: (e: AuditError) => void }
  | { kind: 'checkpoint'; resolve: (r: AuditRecord | undefined) => void; reject: (e: AuditError) => void }
  | { kind: 'rotate'; resolve: (r: undefined) => void; reject: (e: AuditError) => void };

interface Head {
  seq: number;
  hash: string;
  /** The last record's time (undefined when the log has none yet, or it is in a rotated segment). */
  time?: string;
}

interface ActiveFirst {
  seq: number;
  prevHash: string;
  time: string;
}

/**
 * Append-only, hash-chained JSON Lines log with group commit, rotation, retention and signed
 * checkpoints (docs/audit.md). `append` resolves only once the record is on disk (fdatasync);
 * records that arrive while a write is in flight are written together with one sync. A failed
 * write rejects every record of its group with AUDIT_WRITE_FAILED (and the errno), the file is cut
 * back to the last good record and the chain head does not move, so the next append (when space
 * returns) continues the chain and no acknowledged record is lost or reordered.
 */
export class AuditLog {
  private queue: Pending[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private dirty = false;
  private sinceCheckpoint = 0;
  private lastRotationFailure = 0;
  private mirrorChain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly monoStart = performance.now();
  /** Set when open() repaired a torn last line. */
  repaired: RepairInfo | undefined;

  private constructor(
    readonly file: string,
    private readonly paths: LogPaths,
    private readonly fs: AuditFileSystem,
    private handle: AppendFile,
    private head: Head,
    private goodSize: number,
    private activeFirst: ActiveFirst | undefined,
    private readonly manifest: Manifest,
    private readonly options: AuditLogOptions,
  ) {}

  static async open(file: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    const fs = options.fs ?? nodeFileSystem;
    const paths = logPaths(file);
    const clock = options.clock ?? (() => new Date());
    let handle: AppendFile | undefined;
    try {
      await fs.mkdirp(paths.dir);
      const read = await readManifest(paths);
      if ('problem' in read && read.problem) throw new AuditError('AUDIT_MANIFEST_CORRUPT', `${read.problem}; restore it from backup or move it aside`, { file: paths.manifest });
      let manifestChanged = !read.manifest;
      const manifest: Manifest = read.manifest ?? { kind: 'syncgate.audit.manifest', v: 1, logId: randomUUID(), createdAt: clock().toISOString(), segments: [] };

      // Segments renamed just before a crash are on disk but not yet in the manifest.
      for (const seg of await findSegments(fs, paths, manifest)) {
        if (seg.present && !seg.info) {
          manifest.segments.push(await describeSegment(seg.file, clock().toISOString()));
          manifestChanged = true;
        }
      }
      manifest.segments.sort((a, b) => a.firstSeq - b.firstSeq);
      const lastSegment = manifest.segments.at(-1);

      handle = await fs.openAppend(file);
      const tail = await readTail(handle, file);
      let repaired: RepairInfo | undefined;
      if (tail.tornBytes > 0) {
        await handle.truncate(tail.goodSize);
        await handle.sync();
        repaired = {
          file,
          truncatedBytes: tail.tornBytes,
          discardedDigest: `sha256:${tail.tornDigest ?? ''}`,
          keptSeq: tail.last?.seq ?? lastSegment?.lastSeq ?? 0,
          keptHash: tail.last?.hash ?? lastSegment?.lastHash ?? GENESIS_HASH,
        };
      }
      let head: Head;
      let activeFirst: ActiveFirst | undefined;
      if (tail.last) {
        if (lastSegment && tail.last.seq <= lastSegment.lastSeq) {
          throw new AuditError('AUDIT_LOG_CORRUPT', `${file}: the active file ends at seq ${tail.last.seq}, before the rotated segment ${lastSegment.file} (seq ${lastSegment.lastSeq})`, { file });
        }
        head = { seq: tail.last.seq, hash: tail.last.hash, time: tail.last.time };
        const first = await firstRecordOf(file);
        if (!first) throw new AuditError('AUDIT_LOG_CORRUPT', `${file}: the first record is not valid; run \`syncgate audit verify\``, { file });
        activeFirst = { seq: first.seq, prevHash: first.prevHash, time: first.time };
      } else {
        head = lastSegment ? { seq: lastSegment.lastSeq, hash: lastSegment.lastHash } : { seq: 0, hash: GENESIS_HASH };
      }
      if (manifestChanged) await writeManifest(fs, paths, manifest);

      const log = new AuditLog(file, paths, fs, handle, head, tail.goodSize, activeFirst, manifest, options);
      log.repaired = repaired;
      await log.retain({ sweepDeleted: true });
      if (repaired) {
        await log.append({ type: 'audit.repaired', ...repaired, reason: 'the last line was incomplete (a crash during a write); it was never acknowledged and was cut off' });
        await log.checkpoint();
      }
      log.startTimer();
      return log;
    } catch (err) {
      await handle?.close().catch(() => {});
      if (err instanceof AuditError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new AuditError('AUDIT_UNAVAILABLE', `${file}: cannot open the audit log (${code})`, { file }, { cause: err });
    }
  }

  get lastSeq(): number {
    return this.head.seq;
  }

  get headHash(): string {
    return this.head.hash;
  }

  get logId(): string {
    return this.manifest.logId;
  }

  append(event: AuditEvent): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new AuditError('AUDIT_CLOSED', 'the audit log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'event', event, resolve, reject });
      this.kick();
    });
  }

  /**
   * Writes a signed checkpoint now if records were added since the last one. Resolves with the
   * checkpoint record, or undefined when there is no key or nothing new to sign.
   */
  checkpoint(): Promise<AuditRecord | undefined> {
    if (!this.options.checkpoints) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'checkpoint', resolve, reject });
      this.kick();
    });
  }

  /** Closes the active file and starts a new one now (if the active file has records). */
  rotate(): Promise<void> {
    if (this.closed) return Promise.reject(new AuditError('AUDIT_CLOSED', 'the audit log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'rotate', resolve: () => resolve(), reject });
      this.kick();
    });
  }

  private kick(): void {
    if (!this.running) {
      this.running = this.flush().finally(() => {
        this.running = undefined;
        if (this.queue.length > 0) this.kick();
      });
    }
  }

  private async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private startTimer(): void {
    const every = this.options.checkpoints?.everyMs ?? 60_000;
    if (!this.options.checkpoints || every <= 0) return;
    this.timer = setInterval(() => {
      if (this.sinceCheckpoint > 0 && !this.closed) void this.checkpoint().catch(() => {});
    }, every);
    this.timer.unref();
  }

  private warn(message: string, err?: unknown): void {
    this.options.onWarning?.(message, err);
  }

  private sealCheckpoint(head: Head, now: Date, mono: number): { record: AuditRecord; line: string } {
    const cp = signCheckpoint(this.options.checkpoints!.key, { logId: this.manifest.logId, seq: head.seq, head: head.hash, time: now.toISOString() });
    return sealRecordLine({ type: 'audit.checkpoint', checkpoint: cp }, head.seq + 1, head.hash, now, { clock: this.clockSource, mono });
  }

  private get clockSource(): string {
    return this.options.clockSource ?? 'system';
  }

  /** The time records are sealed with: the configured clock, else the system's. */
  private now(): Date {
    const clock = this.options.clock;
    return clock ? clock() : new Date();
  }

  private async flush(): Promise<void> {
    const every = this.options.checkpoints?.everyRecords ?? 1000;
    while (this.queue.length > 0) {
      const rotateIndex = this.queue.findIndex((item) => item.kind === 'rotate');
      if (rotateIndex === 0) {
        const item = this.queue.shift()!;
        try {
          await this.rotateNow();
          (item as { resolve: (r: undefined) => void }).resolve(undefined);
        } catch (err) {
          item.reject(err instanceof AuditError ? err : new AuditWriteError(this.file, err, 'rotate'));
        }
        continue;
      }
      // Everything queued before a rotation request goes into the old file.
      const batch = this.queue.splice(0, rotateIndex === -1 ? this.queue.length : rotateIndex);
      await this.writeBatch(batch, every);
    }
  }

  private async writeBatch(batch: Pending[], every: number): Promise<void> {
    if (this.dirty) {
      try {
        await this.cutBack();
        this.dirty = false;
      } catch (err) {
        const failure = new AuditWriteError(this.file, err, 'repair');
        batch.forEach((item) => item.reject(failure));
        return;
      }
    }
    const now = this.now();
    const mono = Math.round((performance.now() - this.monoStart) * 1000) / 1000;
    let head = this.head;
    let since = this.sinceCheckpoint;
    const records: AuditRecord[] = [];
    const lines: string[] = [];
    const results: Array<AuditRecord | undefined> = [];
    const checkpoints: AuditRecord[] = [];
    const seal = (event: AuditEvent) => {
      const { record: r, line } = sealRecordLine(sanitizeEvent(event), head.seq + 1, head.hash, now, { clock: this.clockSource, mono });
      head = { seq: r.seq, hash: r.hash, time: r.time };
      records.push(r);
      lines.push(line);
      return r;
    };
    const sealCp = () => {
      const { record: r, line } = this.sealCheckpoint(head, now, mono);
      head = { seq: r.seq, hash: r.hash, time: r.time };
      records.push(r);
      lines.push(line);
      checkpoints.push(r);
      since = 0;
      return r;
    };
    for (const item of batch) {
      // An event that cannot be sealed (not serialisable, an invalid clock) fails alone, here:
      // the chain head has not moved for it, and the rest of the batch is written. (A throw out of
      // this loop would leave every append of the batch unsettled.) Resolving it later is a no-op.
      try {
        results.push(item.kind === 'event' ? seal(item.event) : since > 0 ? sealCp() : undefined);
      } catch (err) {
        results.push(undefined);
        item.reject(new AuditError('AUDIT_EVENT_INVALID', `the audit ${item.kind === 'event' ? 'event' : 'checkpoint'} could not be sealed: ${(err as Error).message}`));
        continue;
      }
      if (item.kind !== 'event') continue;
      since++;
      if (this.options.checkpoints && since >= every) {
        try {
          sealCp();
        } catch (err) {
          this.warn('an audit checkpoint could not be sealed; the next one covers these records', err);
        }
      }
    }
    if (records.length === 0) {
      batch.forEach((item, i) => (item as { resolve: (r: AuditRecord | undefined) => void }).resolve(results[i]));
      return;
    }
    const data = Buffer.from(lines.join(''), 'utf8');
    if (rotationDue(this.options.rotation, { bytes: this.goodSize, firstTimeMs: this.activeFirst ? Date.parse(this.activeFirst.time) : undefined }, data.length, now.getTime())) {
      if (Date.now() - this.lastRotationFailure > 10_000) {
        await this.rotateNow().catch((err: unknown) => {
          this.lastRotationFailure = Date.now();
          this.warn(`audit log rotation failed; writing on to ${this.file}`, err);
        });
      }
    }
    try {
      await this.handle.append(data);
      if (!this.handle.durableAppends) await this.handle.sync();
    } catch (err) {
      const failure = new AuditWriteError(this.file, err);
      batch.forEach((item) => item.reject(failure));
      // A partial write may have left part of a line: cut back to the last good record.
      this.dirty = true;
      try {
        await this.cutBack();
        this.dirty = false;
      } catch {
        // Retried before the next write.
      }
      return;
    }
    this.goodSize += data.length;
    this.activeFirst ??= { seq: records[0]!.seq, prevHash: records[0]!.prevHash, time: records[0]!.time };
    this.head = head;
    this.sinceCheckpoint = since;
    batch.forEach((item, i) => (item as { resolve: (r: AuditRecord | undefined) => void }).resolve(results[i]));
    for (const cp of checkpoints) this.mirror(cp);
  }

  /**
   * Cuts the file back to its last good record, durably: with O_DSYNC the lines of a failed group
   * that did reach the file are on disk at once, and only a sync makes the cut outlast a crash
   * (else they could come back as records of a group that was never acknowledged).
   */
  private async cutBack(): Promise<void> {
    await this.handle.truncate(this.goodSize);
    await this.handle.sync();
  }

  private mirror(record: AuditRecord): void {
    const mirrors = this.options.checkpoints?.mirrors ?? [];
    const cp = record.checkpoint as Parameters<CheckpointMirror['write']>[0];
    for (const m of mirrors) {
      this.mirrorChain = this.mirrorChain.then(() => m.write(cp)).catch((err: unknown) => this.warn('could not mirror an audit checkpoint', err));
    }
  }

  /** Renames the active file to its segment name, opens a new one, records it in the manifest. */
  private async rotateNow(): Promise<void> {
    const first = this.activeFirst;
    if (!first || this.goodSize === 0) return;
    const name = segmentName(this.paths, first.seq);
    const target = path.join(this.paths.dir, name);
    if (await this.fs.exists(target)) throw new AuditError('AUDIT_ROTATE_FAILED', `${target} already exists`, { file: target });
    await this.fs.rename(this.file, target);
    let fresh: AppendFile;
    let opened: AppendFile | undefined;
    try {
      opened = await this.fs.openAppend(this.file);
      await this.fs.syncDir(this.paths.dir);
      fresh = opened;
    } catch (err) {
      await opened?.close().catch(() => {});
      await this.fs.rename(target, this.file).catch(() => {});
      throw err;
    }
    const old = this.handle;
    this.handle = fresh;
    const now = this.now();
    const info: SegmentInfo = {
      file: name,
      firstSeq: first.seq,
      lastSeq: this.head.seq,
      firstPrevHash: first.prevHash,
      lastHash: this.head.hash,
      firstTime: first.time,
      // the last record's time, as describeSegment gives it when the manifest is rebuilt
      lastTime: this.head.time ?? now.toISOString(),
      bytes: this.goodSize,
      rotatedAt: now.toISOString(),
    };
    this.goodSize = 0;
    this.activeFirst = undefined;
    await old.close().catch(() => {});
    this.manifest.segments.push(info);
    await writeManifest(this.fs, this.paths, this.manifest).catch((err: unknown) => this.warn('could not write the audit manifest (it is rebuilt at the next start)', err));
    await this.retain();
  }

  private async retain(options: { sweepDeleted?: boolean } = {}): Promise<void> {
    if (!this.options.retention) return;
    const now = this.now();
    await applyRetention(this.fs, this.paths, this.manifest, this.options.retention, now.getTime(), options).catch((err: unknown) =>
      this.warn('audit retention failed; nothing more was deleted', err),
    );
  }

  /** Writes a last checkpoint (if records were added since the last one), then closes the file. */
  async close(): Promise<void> {
    if (this.closed) {
      await this.drain();
      return;
    }
    if (this.timer) clearInterval(this.timer);
    if (this.options.checkpoints && this.sinceCheckpoint > 0) await this.checkpoint().catch(() => {});
    this.closed = true;
    await this.drain();
    await this.mirrorChain;
    for (const m of this.options.checkpoints?.mirrors ?? []) await m.close().catch(() => {});
    await this.handle.close();
  }
}
