/**
 * V8's allocation-site pretenuring is turned off for `syncgate serve`. When most objects made at
 * one allocation site are still alive at a scavenge, V8 allocates that site's later objects
 * straight in the old generation. The gate's per-document records (a few hundred small objects a
 * decision, all alive while the decision runs) are caught by that whenever a scavenge falls in
 * the middle of a decision; from then on they all go to the old generation, hold young objects
 * there (so those survive scavenges too), and die only at a full GC. In alternated runs of the
 * gate at 300 decisions/s with a new commit per request (a scratch copy of bench/gate.mjs's open
 * loop with `--trace-gc-nvp`), turning it off took what scavenges promote from 13–21 to 1.9 KiB
 * a decision, full GCs from 3–4 to none in 8 s, the peak RSS from 175–177 to 145–149 MiB and the
 * p99 from 25–44 to 10–11 ms, at the same CPU per decision (BENCHMARKS.md, "Fifth pass").
 *
 * Set at run time (V8 reads it at every scavenge), with the same caveat as heap-growth.ts and
 * optimizer-pause.ts: V8 flags changed after start are not a supported Node API. An operator's
 * own `--allocation-site-pretenuring` or `--no-allocation-site-pretenuring` is left alone.
 */
import { setFlagsFromString } from 'node:v8';
import { operatorGaveFlag } from './node-flags.js';

const PRETENURING_FLAG = /^--(no-)?allocation-site-pretenuring\b/;

/** Turns off V8's allocation-site pretenuring; false when the operator set it (or it failed). */
export function stopPretenuring(): boolean {
  if (operatorGaveFlag(PRETENURING_FLAG)) return false;
  try {
    setFlagsFromString('--no-allocation-site-pretenuring');
    return true;
  } catch {
    return false;
  }
}
