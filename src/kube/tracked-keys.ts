import type { SealingKey, SealingKeyring } from '../secrets/index.js';

/** What a key source tells its owner (for logs and metrics). Never carries key bytes. */
export type KeySourceReport =
  | { event: 'synced'; keys: number }
  | { event: 'key-added'; keyId: string; from: string }
  | { event: 'key-removed'; keyId: string; from: string }
  | { event: 'key-invalid'; from: string; code: string; message: string; keptPrevious: boolean }
  | { event: 'error'; code: string; message: string; retryInMs?: number };

export interface KeySourceStatus {
  /** True once the first complete load succeeded. */
  synced: boolean;
  keys: { keyId: string; created: string | undefined; from: string[] }[];
  /** Key holders that could not be read at the last look (named, with the reason code). */
  invalid: { from: string; code: string; message: string }[];
  lastError: { code: string; message: string } | undefined;
}

/** The common face of the file and Kubernetes key sources. */
export interface SealingKeySource {
  readonly keyring: SealingKeyring;
  /** Resolves after the first complete load; keeps the keyring current until stop(). */
  start(): Promise<void>;
  /** Stops watching; the keys loaded so far stay in the keyring. */
  stop(): Promise<void>;
  status(): KeySourceStatus;
}

/** How many holders, across every source feeding the same keyring, hold each key id. */
const holdCounts = new WeakMap<SealingKeyring, Map<string, number>>();

function counts(keyring: SealingKeyring): Map<string, number> {
  let m = holdCounts.get(keyring);
  if (!m) holdCounts.set(keyring, (m = new Map()));
  return m;
}

/**
 * Which holder (a file, a Secret) holds which key, kept in step with a keyring. A key stays in
 * the keyring while at least one holder still holds it, also when several sources (files and
 * Secrets) feed one keyring.
 */
export class TrackedKeys {
  private readonly byHolder = new Map<string, SealingKey>();
  readonly invalid = new Map<string, { code: string; message: string }>();

  constructor(
    readonly keyring: SealingKeyring,
    private readonly report: (r: KeySourceReport) => void,
  ) {}

  holders(): string[] {
    return [...this.byHolder.keys()];
  }

  has(holder: string): boolean {
    return this.byHolder.has(holder);
  }

  /** Records that `holder` now holds `key` (adds it to the keyring; drops what the holder held before). */
  set(holder: string, key: SealingKey): void {
    const previous = this.byHolder.get(holder);
    if (previous?.keyId === key.keyId) {
      this.invalid.delete(holder);
      return;
    }
    this.keyring.add(key); // throws SEAL_DUPLICATE_KEY on an id collision: the caller reports it
    const held = counts(this.keyring);
    held.set(key.keyId, (held.get(key.keyId) ?? 0) + 1);
    this.byHolder.set(holder, key);
    this.invalid.delete(holder);
    this.report({ event: 'key-added', keyId: key.keyId, from: holder });
    if (previous) this.release(previous, holder);
  }

  delete(holder: string): void {
    const previous = this.byHolder.get(holder);
    this.byHolder.delete(holder);
    this.invalid.delete(holder);
    if (previous) this.release(previous, holder);
  }

  /** A holder that cannot be read: keep what it held before (last good set) and say so. */
  markInvalid(holder: string, err: unknown): void {
    const code = (err as { code?: unknown }).code;
    const entry = { code: typeof code === 'string' ? code : 'KEY_SOURCE_ERROR', message: err instanceof Error ? err.message : String(err) };
    this.invalid.set(holder, entry);
    this.report({ event: 'key-invalid', from: holder, ...entry, keptPrevious: this.byHolder.has(holder) });
  }

  private release(key: SealingKey, holder: string): void {
    const held = counts(this.keyring);
    const left = (held.get(key.keyId) ?? 1) - 1;
    if (left > 0) {
      held.set(key.keyId, left);
      return;
    }
    held.delete(key.keyId);
    this.keyring.remove(key.keyId);
    this.report({ event: 'key-removed', keyId: key.keyId, from: holder });
  }

  statusKeys(): KeySourceStatus['keys'] {
    const out = new Map<string, KeySourceStatus['keys'][number]>();
    for (const [holder, key] of this.byHolder) {
      const entry = out.get(key.keyId) ?? { keyId: key.keyId, created: key.created?.toISOString(), from: [] };
      entry.from.push(holder);
      out.set(key.keyId, entry);
    }
    return [...out.values()];
  }

  invalidList(): KeySourceStatus['invalid'] {
    return [...this.invalid].map(([from, e]) => ({ from, ...e }));
  }
}
