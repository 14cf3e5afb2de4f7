import { watch, type FSWatcher } from 'node:fs';
import { InputError, asSyncgateError, type SyncgateError } from '../errors.js';
import { loadExceptions, type PolicyException } from './exceptions.js';
import { loadPolicies } from './loader.js';
import type { LoadedPolicy } from './types.js';

export interface PolicySources {
  policies: readonly string[];
  exceptions: readonly string[];
}

/** One consistent generation of policies and exceptions. */
export interface PolicySet {
  policies: LoadedPolicy[];
  exceptions: PolicyException[];
  loadedAt: Date;
  generation: number;
}

export type ReloadOutcome = { ok: true; set: PolicySet } | { ok: false; error: SyncgateError; kept: PolicySet | undefined };

/**
 * Holds the policies and exceptions in force. A reload that fails (a bad edit) keeps the last
 * good set in force and reports the error; the gate never runs with a half-loaded set.
 */
export class PolicyStore {
  private set: PolicySet | undefined;
  private error: SyncgateError | undefined;
  private generation = 0;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sources: PolicySources) {}

  current(): PolicySet | undefined {
    return this.set;
  }

  /** The error of the last reload, while the last good set stays in force. */
  lastError(): SyncgateError | undefined {
    return this.error;
  }

  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Loads the sources again. Reloads run one after another (a later edit is always read after an
   * earlier one), so an older read can never finish last and replace a newer set.
   */
  reload(): Promise<ReloadOutcome> {
    const next = this.queue.then(() => this.load());
    this.queue = next.catch(() => {});
    return next;
  }

  private async load(): Promise<ReloadOutcome> {
    try {
      const [policies, exceptions] = await Promise.all([loadPolicies([...this.sources.policies]), loadExceptions(this.sources.exceptions)]);
      const names = new Set<string>();
      for (const p of policies) {
        if (names.has(p.name)) {
          throw new InputError('POLICY_DUPLICATE_NAME', `two policies are named ${p.name}; the second is in ${p.file ?? '(memory)'}`, p.file ? { file: p.file, document: p.document } : undefined);
        }
        names.add(p.name);
      }
      this.set = { policies, exceptions, loadedAt: new Date(), generation: ++this.generation };
      this.error = undefined;
      return { ok: true, set: this.set };
    } catch (err) {
      this.error = asSyncgateError(err, 'POLICY_LOAD_FAILED');
      return { ok: false, error: this.error, kept: this.set };
    }
  }

  /** Reloads when anything under the sources changes (debounced); `onReload` hears every outcome. */
  watch(onReload: (outcome: ReloadOutcome) => void, debounceMs = 250): void {
    const schedule = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload().then(onReload), debounceMs);
    };
    for (const p of [...this.sources.policies, ...this.sources.exceptions]) {
      try {
        const w = watch(p, { recursive: true, persistent: false }, schedule);
        w.on('error', (err) => onReload({ ok: false, error: asSyncgateError(err, 'POLICY_WATCH_FAILED'), kept: this.set }));
        this.watchers.push(w);
      } catch (err) {
        onReload({ ok: false, error: asSyncgateError(err, 'POLICY_WATCH_FAILED'), kept: this.set });
      }
    }
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
