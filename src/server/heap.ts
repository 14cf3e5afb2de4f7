/**
 * Loading the gate (modules, configuration, trust material, the compiled policy library) allocates
 * fast and keeps much of what it allocates, so V8 grows its young generation to the maximum (two
 * 16 MiB semispaces) and leaves the old generation fragmented. Left alone, V8's memory reducer
 * hands that back only after about ten idle seconds; compactHeap does the same at once, right
 * after the gate is ready: one memory-reducing collection (V8's "last resort": full collections
 * until nothing more is freed, the young generation shrunk, unused pages released). It only
 * brings forward what V8 does by itself at idle, so later decisions run with the same heap
 * settings. It takes tens of milliseconds, once.
 *
 * V8 gives JavaScript no other way to ask for that collection than the gc() function of
 * --expose-gc, and that flag can also be set after start for new contexts: it is set for the one
 * vm context that hands us gc, and cleared again, so the gate's own global never gets a gc.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => void;

function gcFunction(): GcFunction | undefined {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as GcFunction;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    return typeof gc === 'function' ? (gc as GcFunction) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/** Runs one memory-reducing full collection; false when V8 offered no way to (nothing happened). */
export function compactHeap(): boolean {
  const gc = gcFunction();
  if (!gc) return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}
