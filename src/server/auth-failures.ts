/**
 * Failed authentications into the audit log, without letting anyone who can reach a port fill
 * it. Each record is written durably (fdatasync) and the 401 waits for it, so one record per
 * request let an unauthenticated client grow the log and hold the disk's write queue that every
 * decision's record also waits on. Here, within each window (a minute by default), a source
 * (endpoint and remote address) gets its first few failures recorded one by one; after that its
 * failures are counted, and one `auth.failed` record with `repeated` (how many more) and the
 * first and last time closes the window. A global cap bounds the single records of a window,
 * and sources beyond the tracked number share one summary (remoteAddress "*"). A count not yet
 * written is lost if the process dies before the window closes; its first failures are not.
 */
import type { AuditEvent } from '../audit/record.js';
import type { Logger } from '../log.js';

export interface AuthFailureOptions {
  /** Length of a window; default 60,000 ms. */
  windowMs?: number;
  /** Failures of one source recorded one by one per window; default 10. */
  perSource?: number;
  /** Single records per window in all; default 100. */
  total?: number;
  /** Sources counted apart per window; default 256 (then they share "*"). */
  maxSources?: number;
}

interface Counted {
  endpoint: string;
  remoteAddress: string | null;
  recorded: number;
  repeated: number;
  since?: Date;
  until?: Date;
}

export class AuthFailureRecorder {
  private sources = new Map<string, Counted>();
  private recordedInWindow = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly windowMs: number;
  private readonly perSource: number;
  private readonly total: number;
  private readonly maxSources: number;

  constructor(
    private readonly audit: { append(event: AuditEvent): Promise<unknown> },
    private readonly logger?: Logger,
    options: AuthFailureOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.perSource = options.perSource ?? 10;
    this.total = options.total ?? 100;
    this.maxSources = options.maxSources ?? 256;
  }

  /** Records (or counts) one failed authentication; resolves once a record it wrote is durable. */
  async record(endpoint: string, remoteAddress: string | null): Promise<void> {
    const source = this.source(endpoint, remoteAddress);
    this.timer ??= setTimeout(() => void this.flush(), this.windowMs).unref();
    if (source.recorded < this.perSource && this.recordedInWindow < this.total) {
      source.recorded++;
      this.recordedInWindow++;
      await this.append({ type: 'auth.failed', endpoint, remoteAddress });
      return;
    }
    const now = new Date();
    source.repeated++;
    source.since ??= now;
    source.until = now;
  }

  /** Ends the window: one record per source with failures counted and not yet written. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ended = [...this.sources.values()].filter((s) => s.repeated > 0);
    this.sources = new Map();
    this.recordedInWindow = 0;
    for (const s of ended) {
      await this.append({ type: 'auth.failed', endpoint: s.endpoint, remoteAddress: s.remoteAddress, repeated: s.repeated, since: s.since!.toISOString(), until: s.until!.toISOString() });
    }
  }

  private source(endpoint: string, remoteAddress: string | null): Counted {
    let key = `${endpoint} ${remoteAddress ?? ''}`;
    let source = this.sources.get(key);
    if (source) return source;
    if (this.sources.size >= this.maxSources) {
      key = `${endpoint} *`;
      source = this.sources.get(key);
      if (source) return source;
      // the shared source records nothing one by one: it only counts
      source = { endpoint, remoteAddress: '*', recorded: this.perSource, repeated: 0 };
    } else {
      source = { endpoint, remoteAddress, recorded: 0, repeated: 0 };
    }
    this.sources.set(key, source);
    return source;
  }

  private async append(event: AuditEvent): Promise<void> {
    await this.audit.append(event).catch((err: unknown) => this.logger?.error({ err: (err as Error).message }, 'could not record a failed authentication'));
  }
}
