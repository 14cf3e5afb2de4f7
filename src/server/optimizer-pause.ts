/**
 * V8's optimizing compilers (Maglev, TurboFan) are paused while `syncgate serve` loads and resumed
 * once the gate is ready (or has given up getting ready). What gets hot while the gate loads is
 * run-once code: module resolution for ~500 modules, YAML and schema parsing of the configuration
 * and the policies, openpgp.js's table set-up. Optimizing it pages in the compilers' own machine
 * code (~6 MiB of the node binary) and leaves their compile-zone memory in the worker threads'
 * malloc arenas (~3 MiB), all of which then stays resident while the gate idles (measured with
 * bench startup: idle RSS 87 -> 79 MiB; cold start and decisions/s unchanged within noise). From
 * ready on, V8 optimizes as before: the decision path is compiled by the same compilers under load.
 *
 * Caveats, weighed: V8 flags changed after start are not a supported API (Node documents the
 * behaviour as undefined; V8 reads these two when it decides to tier a function up); and while
 * they differ, Node's embedded code cache is rejected for the built-in modules loaded meanwhile
 * (they are compiled from source: no measurable cost to the cold start). Nothing is paused when
 * the process was started with its own compiler flags (NODE_OPTIONS or node's arguments), so an
 * operator's --jitless or --no-opt is never undone.
 */
import { setFlagsFromString } from 'node:v8';
import { operatorGaveFlag } from './node-flags.js';

/** Resume anyway after this long: a gate that never gets ready (a policy retried for ever) still serves probes optimized. */
const RESUME_AFTER_MS = 60_000;

const COMPILER_FLAG = /^--(no-)?(maglev|turbofan|turboshaft|jitless|opt|max-opt|sparkplug|always-)/;

let resume: (() => void) | undefined;

/** Pauses the optimizing compilers until resumeOptimizingCompilers (or RESUME_AFTER_MS); false when it did not (see above). */
export function pauseOptimizingCompilers(): boolean {
  if (resume || operatorGaveFlag(COMPILER_FLAG)) return false;
  try {
    setFlagsFromString('--no-maglev');
    setFlagsFromString('--no-turbofan');
  } catch {
    return false;
  }
  const timer = setTimeout(() => resumeOptimizingCompilers(), RESUME_AFTER_MS);
  timer.unref();
  resume = () => {
    clearTimeout(timer);
    setFlagsFromString('--maglev');
    setFlagsFromString('--turbofan');
  };
  return true;
}

/** Turns the compilers paused by pauseOptimizingCompilers back on; a no-op otherwise, and after the first call. */
export function resumeOptimizingCompilers(): void {
  const r = resume;
  resume = () => {};
  r?.();
}
