import type { V1Secret } from '@kubernetes/client-node';
import { SealingKeyring } from '../secrets/index.js';
import type { KubeClient, WatchHandle } from './client.js';
import { KubeError, KubeErrorCode } from './errors.js';
import { SEALING_KEY_ACTIVE, SEALING_KEY_LABEL, SEALING_KEY_SELECTOR, keyFromSecret } from './key-secrets.js';
import { type KeySourceReport, type KeySourceStatus, type SealingKeySource, TrackedKeys } from './tracked-keys.js';

export interface KubeKeySourceOptions {
  client: KubeClient;
  /** The gate's own namespace (see gateNamespace()). */
  namespace: string;
  /** Fed in place; a new keyring by default. */
  keyring?: SealingKeyring;
  onReport?: (report: KeySourceReport) => void;
  /** Backoff between failed lists/watches: doubles from min to max, with jitter (default 500 ms .. 30 s). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Asks the server to end each watch after this long; it is then resumed from the last resourceVersion (default 25 s). */
  watchTimeoutSeconds?: number;
}

/**
 * Sealing keys from Secrets labelled `syncgate.dev/sealing-key: active` in the gate's namespace:
 * list, then watch from the list's resourceVersion, like an informer.
 *
 * - ADDED/MODIFIED: the Secret's key is added (a Secret that now holds another key swaps it).
 * - DELETED, or relabelled away from `active`: its key leaves the keyring at once, so an operator
 *   can retire a compromised key without a restart. Values sealed to it stop opening: reseal first.
 * - A malformed key Secret is reported by name (never its bytes) and ignored; if it held a good
 *   key before, that key is kept (last good set).
 * - A list or watch that fails keeps every key and retries with backoff; 410 Gone lists again at once.
 *   After a re-list, keys whose Secrets are gone are removed (they were deleted while unwatched).
 */
export class KubeSealingKeySource implements SealingKeySource {
  readonly keyring: SealingKeyring;
  private readonly tracked: TrackedKeys;
  private synced = false;
  private stopped = false;
  private started = false;
  private lastError: { code: string; message: string } | undefined;
  private watch: WatchHandle | undefined;
  private endWatch: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: KubeKeySourceOptions) {
    this.keyring = options.keyring ?? new SealingKeyring();
    this.tracked = new TrackedKeys(this.keyring, (r) => this.report(r));
  }

  private report(r: KeySourceReport): void {
    try {
      this.options.onReport?.(r);
    } catch {
      // a reporting hook must not break the key source
    }
  }

  start(): Promise<void> {
    if (this.started) throw new Error('KubeSealingKeySource already started');
    this.started = true;
    return new Promise((resolve, reject) => {
      this.loop = this.run(resolve, () => reject(new KubeError(KubeErrorCode.Unreachable, 'key source stopped before the first successful list')));
    });
  }

  /** Ends the watch and the retry loop; resolves when the loop has finished. Keys stay in the keyring. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    this.endWatch?.();
    this.wake?.();
    await this.loop;
  }

  status(): KeySourceStatus {
    return { synced: this.synced, keys: this.tracked.statusKeys(), invalid: this.tracked.invalidList(), lastError: this.lastError };
  }

  private holder(secret: V1Secret): string {
    return `Secret ${this.options.namespace}/${secret.metadata?.name ?? '(unnamed)'}`;
  }

  private isKeySecret(secret: V1Secret): boolean {
    return secret.metadata?.labels?.[SEALING_KEY_LABEL] === SEALING_KEY_ACTIVE && (secret.metadata?.namespace ?? this.options.namespace) === this.options.namespace;
  }

  private upsert(secret: V1Secret): void {
    const holder = this.holder(secret);
    if (!this.isKeySecret(secret)) {
      this.tracked.delete(holder);
      return;
    }
    try {
      this.tracked.set(holder, keyFromSecret(secret));
    } catch (err) {
      this.tracked.markInvalid(holder, err);
    }
  }

  private reconcile(items: V1Secret[]): void {
    const seen = new Set<string>();
    for (const secret of items) {
      seen.add(this.holder(secret));
      this.upsert(secret);
    }
    for (const holder of this.tracked.holders()) if (!seen.has(holder)) this.tracked.delete(holder);
    for (const { from } of this.tracked.invalidList()) if (!seen.has(from)) this.tracked.invalid.delete(from);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private fail(err: unknown, retryInMs: number): void {
    const e = err instanceof KubeError ? err : new KubeError(KubeErrorCode.Unexpected, (err as Error)?.message ?? String(err));
    this.lastError = { code: e.code, message: e.message };
    this.report({ event: 'error', code: e.code, message: e.message, retryInMs });
  }

  private async run(onFirstSync: () => void, onStoppedFirst: () => void): Promise<void> {
    const { client, namespace } = this.options;
    const min = this.options.backoffMinMs ?? 500;
    const max = this.options.backoffMaxMs ?? 30_000;
    let backoff = min;
    const nextBackoff = () => {
      const wait = Math.min(max, backoff) * (0.8 + Math.random() * 0.4);
      backoff = Math.min(max, backoff * 2);
      return Math.round(wait);
    };
    while (!this.stopped) {
      let rv: string;
      try {
        const list = await client.listSecrets(namespace, SEALING_KEY_SELECTOR);
        if (this.stopped) break;
        this.reconcile(list.items);
        rv = list.resourceVersion;
        this.lastError = undefined;
        backoff = min;
        if (!this.synced) {
          this.synced = true;
          onFirstSync();
        }
        this.report({ event: 'synced', keys: this.keyring.size });
      } catch (err) {
        const wait = nextBackoff();
        this.fail(err, wait);
        await this.sleep(wait);
        continue;
      }
      // Watch until an error; a normal end resumes from the last resourceVersion seen.
      for (;;) {
        if (this.stopped) break;
        const began = Date.now();
        const ended = await this.watchOnce(rv, (v) => (rv = v));
        if (this.stopped) break;
        if (ended === undefined) {
          // A server that ends watches at once must not make this loop spin.
          if (Date.now() - began < 1000) await this.sleep(min);
          continue;
        }
        if (ended.code === KubeErrorCode.Gone) {
          this.fail(ended, 0);
          break; // list again at once
        }
        const wait = nextBackoff();
        this.fail(ended, wait);
        await this.sleep(wait);
        break;
      }
    }
    if (!this.synced) onStoppedFirst();
  }

  private watchOnce(fromRv: string, setRv: (rv: string) => void): Promise<KubeError | undefined> {
    return new Promise((resolve) => {
      this.endWatch = () => resolve(undefined);
      void this.options.client
        .watchSecrets(
          this.options.namespace,
          SEALING_KEY_SELECTOR,
          fromRv,
          {
            onEvent: (type, secret) => {
              const rv = secret.metadata?.resourceVersion;
              if (rv) setRv(rv);
              if (type === 'BOOKMARK') return;
              if (type === 'DELETED') this.tracked.delete(this.holder(secret));
              else this.upsert(secret);
            },
            onEnd: (err) => {
              this.watch = undefined;
              this.endWatch = undefined;
              resolve(err);
            },
          },
          this.options.watchTimeoutSeconds ?? 25,
        )
        .then((handle) => {
          if (this.stopped) {
            handle.stop();
            resolve(undefined);
          } else this.watch = handle;
        });
    });
  }
}
