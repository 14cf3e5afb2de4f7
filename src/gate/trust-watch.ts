/**
 * Watches trust files (OpenPGP keyrings, SSH allowed signers and revoked keys, the Sigstore trusted
 * root) so they can be reloaded without a restart. Kubernetes updates a mounted ConfigMap by
 * swapping a `..data` symlink in the directory, so the file's own inode never changes: the parent
 * directories are watched, and what counts is the content digest, never the event. fs.watch is
 * only a hint (it misses changes on NFS and some overlay filesystems): a poll every `intervalMs`
 * catches the rest. Checks never overlap, and `onChange` is called once per real change with the
 * paths whose content changed (a file that disappears or cannot be read counts as changed).
 * Reloading and keeping the last good material is the caller's job (reloadSshTrust,
 * reloadTrustedRoot in trust-material.ts).
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TrustConfig } from '../config/trust.js';

export interface TrustFileWatcher {
  /** Compares every file with its last digest now (also what the timer and fs events do). */
  check(): Promise<void>;
  close(): void;
}

export interface WatchTrustFilesOptions {
  /** Poll interval; default 5000 ms. */
  intervalMs?: number;
  /** Quiet time after an fs event before checking; default 200 ms. */
  debounceMs?: number;
  /** Errors thrown by onChange (they never stop the watcher). */
  onError?: (err: unknown) => void;
}

/** Every trust file a configuration names (keyrings, allowed signers, revoked keys, trusted root). */
export function trustFilePaths(trust: TrustConfig): string[] {
  const root = (trust as { trustedRoot?: unknown }).trustedRoot;
  const all = [...trust.keyrings, ...(trust.allowedSigners ?? []), ...(trust.sshRevokedKeys ?? []), ...(typeof root === 'string' ? [root] : [])];
  return [...new Set(all)];
}

async function digestOf(file: string): Promise<string> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

/** Starts watching; the first snapshot is taken now, so only later changes are reported. */
export function watchTrustFiles(paths: readonly string[], onChange: (changed: string[]) => void | Promise<void>, options: WatchTrustFilesOptions = {}): TrustFileWatcher {
  const files = [...new Set(paths.map((p) => path.resolve(p)))];
  const digests = new Map<string, string>();
  let closed = false;
  let running: Promise<void> = Promise.all(files.map(async (f) => digests.set(f, await digestOf(f)))).then(() => undefined);
  let debounce: NodeJS.Timeout | undefined;

  const runCheck = async (): Promise<void> => {
    if (closed) return;
    const changed: string[] = [];
    for (const f of files) {
      const d = await digestOf(f);
      if (digests.get(f) !== d) {
        digests.set(f, d);
        changed.push(f);
      }
    }
    if (changed.length === 0 || closed) return;
    try {
      await onChange(changed);
    } catch (err) {
      options.onError?.(err);
    }
  };
  const check = (): Promise<void> => {
    running = running.then(runCheck, runCheck);
    return running;
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => path.dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => void check(), options.debounceMs ?? 200);
        debounce.unref();
      });
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      // No fs events for this directory (missing, unsupported): the poll still covers it.
    }
  }
  const timer = setInterval(() => void check(), options.intervalMs ?? 5000);
  timer.unref();

  return {
    check,
    close(): void {
      closed = true;
      clearInterval(timer);
      clearTimeout(debounce);
      for (const w of watchers) w.close();
    },
  };
}
