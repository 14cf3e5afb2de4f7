import { type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { SealingKeyring, readPrivateKeyFile } from '../secrets/index.js';
import { type KeySourceReport, type KeySourceStatus, type SealingKeySource, TrackedKeys } from './tracked-keys.js';

export interface FileKeySourceOptions {
  /** Private key files and/or directories (every `*.key` file in them, hidden names skipped). */
  paths: readonly string[];
  keyring?: SealingKeyring;
  onReport?: (report: KeySourceReport) => void;
  /** Quiet time after a change before reloading (default 200 ms). */
  debounceMs?: number;
  /** Also reload this often, for mounts where file events are not delivered (default 60 s; 0 = never). */
  pollIntervalMs?: number;
}

/**
 * Sealing keys from files, reloaded when they change (a mounted Secret volume swaps its files
 * atomically; the watch is on the directories). At start every file must load, or start() fails
 * with the file named. On a reload a file that no longer parses is reported and its previous key
 * kept; a file that is gone from its directory takes its key out; a path that has vanished
 * altogether (an unmounted volume) keeps every key and is reported.
 */
export class FileSealingKeySource implements SealingKeySource {
  readonly keyring: SealingKeyring;
  private readonly tracked: TrackedKeys;
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private synced = false;
  private stopped = false;
  private lastError: { code: string; message: string } | undefined;
  private reloading: Promise<void> = Promise.resolve();

  constructor(private readonly options: FileKeySourceOptions) {
    if (options.paths.length === 0) throw new ConfigError('SEAL_NO_KEYS', 'no sealing key files or directories given');
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

  async start(): Promise<void> {
    const files = await this.listFiles(true);
    for (const file of files) this.tracked.set(file, await readPrivateKeyFile(file));
    this.synced = true;
    this.report({ event: 'synced', keys: this.keyring.size });
    const dirs = new Set<string>();
    for (const p of this.options.paths) {
      const abs = resolve(p);
      const isDir = await stat(abs).then((s) => s.isDirectory(), () => false);
      dirs.add(isDir ? abs : dirname(abs));
    }
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', () => this.schedule());
        this.watchers.push(w);
      } catch {
        // no file events here: polling still reloads
      }
    }
    const every = this.options.pollIntervalMs ?? 60_000;
    if (every > 0) {
      this.poll = setInterval(() => this.schedule(0), every);
      this.poll.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    await this.reloading;
  }

  status(): KeySourceStatus {
    return { synced: this.synced, keys: this.tracked.statusKeys(), invalid: this.tracked.invalidList(), lastError: this.lastError };
  }

  private schedule(delay = this.options.debounceMs ?? 200): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reloading = this.reloading.then(() => this.reload());
    }, delay);
    this.timer.unref();
  }

  /** Reads every file again now (also what a change event triggers). */
  async reload(): Promise<void> {
    if (this.stopped) return;
    let files: string[];
    try {
      files = await this.listFiles(false);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      this.lastError = { code: e.code ?? 'SEAL_KEY_READ_FAILED', message: e.message ?? String(err) };
      this.report({ event: 'error', ...this.lastError });
      return;
    }
    this.lastError = undefined;
    const seen = new Set(files);
    for (const file of files) {
      try {
        this.tracked.set(file, await readPrivateKeyFile(file));
      } catch (err) {
        this.tracked.markInvalid(file, err);
      }
    }
    for (const holder of this.tracked.holders()) if (!seen.has(holder)) this.tracked.delete(holder);
    for (const { from } of this.tracked.invalidList()) if (!seen.has(from)) this.tracked.invalid.delete(from);
    this.report({ event: 'synced', keys: this.keyring.size });
  }

  private async listFiles(initial: boolean): Promise<string[]> {
    const files: string[] = [];
    for (const p of this.options.paths) {
      const abs = resolve(p);
      let isDir: boolean;
      try {
        isDir = (await stat(abs)).isDirectory();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new ConfigError('SEAL_KEY_READ_FAILED', `sealing key path ${p} cannot be read (${code})${initial ? '' : '; keeping the keys loaded before'}`, { file: p });
      }
      if (!isDir) {
        files.push(abs);
        continue;
      }
      for (const name of (await readdir(abs)).sort()) {
        if (name.startsWith('.') || !name.endsWith('.key')) continue;
        const file = join(abs, name);
        if (await stat(file).then((s) => s.isFile(), () => false)) files.push(file);
      }
    }
    if (initial && files.length === 0) throw new ConfigError('SEAL_NO_KEYS', `no sealing key files (*.key) found in ${this.options.paths.join(', ')}`);
    return files;
  }
}
