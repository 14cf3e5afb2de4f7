import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AuditError } from '../errors.js';
import { GENESIS_HASH, recordHash, sealRecord, type AuditEvent, type AuditRecord } from './record.js';

interface Pending {
  event: AuditEvent;
  resolve: (record: AuditRecord) => void;
  reject: (err: AuditError) => void;
}

/** Reads the chain head (last seq and hash) from the end of an existing log. */
async function readHead(handle: FileHandle, file: string): Promise<{ seq: number; hash: string }> {
  const { size } = await handle.stat();
  if (size === 0) return { seq: 0, hash: GENESIS_HASH };
  const chunk = Math.min(size, 1024 * 1024);
  const buf = Buffer.alloc(chunk);
  await handle.read(buf, 0, chunk, size - chunk);
  const text = buf.toString('utf8');
  if (!text.endsWith('\n')) {
    throw new AuditError('AUDIT_LOG_TORN', `${file}: the last record is incomplete (no final newline); run \`syncgate audit verify\``, { file });
  }
  const lines = text.slice(0, -1).split('\n');
  const last = lines[lines.length - 1] ?? '';
  let record: AuditRecord;
  try {
    record = JSON.parse(last) as AuditRecord;
  } catch {
    throw new AuditError('AUDIT_LOG_CORRUPT', `${file}: the last record is not valid JSON`, { file });
  }
  const { hash, ...rest } = record;
  if (typeof record.seq !== 'number' || typeof hash !== 'string' || recordHash(rest) !== hash) {
    throw new AuditError('AUDIT_LOG_CORRUPT', `${file}: the last record's hash does not match its contents`, { file });
  }
  return { seq: record.seq, hash };
}

/**
 * Append-only, hash-chained JSON Lines log. `append` resolves only once the record is on disk
 * (fdatasync); records that arrive while a write is in flight are written together with one
 * sync (group commit). A failed write rejects every record of that group, and the chain head
 * does not advance, so no acknowledged record is ever lost or out of order.
 */
export class AuditLog {
  private queue: Pending[] = [];
  private writing = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  private constructor(
    readonly file: string,
    private handle: FileHandle,
    private seq: number,
    private head: string,
    private readonly clock: () => Date,
  ) {}

  static async open(file: string, options: { clock?: () => Date } = {}): Promise<AuditLog> {
    try {
      await mkdir(path.dirname(file), { recursive: true });
      const handle = await open(file, 'a+', 0o640);
      try {
        const head = await readHead(handle, file);
        return new AuditLog(file, handle, head.seq, head.hash, options.clock ?? (() => new Date()));
      } catch (err) {
        await handle.close();
        throw err;
      }
    } catch (err) {
      if (err instanceof AuditError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new AuditError('AUDIT_UNAVAILABLE', `${file}: cannot open the audit log (${code})`, { file });
    }
  }

  get lastSeq(): number {
    return this.seq;
  }

  get headHash(): string {
    return this.head;
  }

  append(event: AuditEvent): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new AuditError('AUDIT_CLOSED', 'the audit log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    this.idle = new Promise((r) => (this.markIdle = r));
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      let seq = this.seq;
      let head = this.head;
      const records: AuditRecord[] = [];
      const lines: string[] = [];
      const now = this.clock();
      for (const item of batch) {
        const record = sealRecord(item.event, ++seq, head, now);
        head = record.hash;
        records.push(record);
        lines.push(`${JSON.stringify(record)}\n`);
      }
      try {
        await this.handle.write(lines.join(''));
        await this.handle.datasync();
        this.seq = seq;
        this.head = head;
        batch.forEach((item, i) => item.resolve(records[i]!));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        const failure = new AuditError('AUDIT_WRITE_FAILED', `cannot write the audit log ${this.file} (${code})`, { file: this.file });
        batch.forEach((item) => item.reject(failure));
        // A partial write may have left a torn line; truncate back to the last good record.
        await this.truncateToHead().catch(() => {});
      }
    }
    this.writing = false;
    this.markIdle();
  }

  private async truncateToHead(): Promise<void> {
    const { size } = await this.handle.stat();
    if (size === 0) return;
    // Find the end of the last complete record whose hash is the current head.
    const chunk = Math.min(size, 16 * 1024 * 1024);
    const buf = Buffer.alloc(chunk);
    await this.handle.read(buf, 0, chunk, size - chunk);
    const marker = Buffer.from(`"hash":"${this.head}"}\n`);
    const at = buf.lastIndexOf(marker);
    if (at >= 0) await this.handle.truncate(size - chunk + at + marker.length);
    else if (this.seq === 0) await this.handle.truncate(0);
  }

  /** Waits for queued records, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle;
    await this.handle.close();
  }
}
