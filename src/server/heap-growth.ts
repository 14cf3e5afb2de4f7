/**
 * How far V8 lets the old generation grow past what the last full GC left live. V8 picks the
 * factor from its measured GC and allocation speeds; for the gate (a ~23 MiB live heap that
 * allocates slowly next to how fast it is collected) it picks its minimum, 1.1, so incremental
 * marking of the whole heap starts again almost as soon as the last full GC ended: one every ~20
 * decisions, each 20-40 ms of main-thread marking. A fixed factor of 2 (`--heap-growing-percent`)
 * halves how often that happens: at 300 decisions/s the gate's CPU per decision went from
 * 3.6-3.7 to 3.2-3.25 ms and the p50 from 13-20 to 6-12 ms, peak RSS not higher, in alternated
 * runs of `SYNCGATE_BENCH_NODE_ARGS="--heap-growing-percent=100" npm run bench -- --quick gate`.
 *
 * Set at run time (V8 reads it at every full GC), like optimizer-pause.ts and with the same
 * caveat: V8 flags changed after start are not a supported Node API. An operator's own heap
 * flags (arguments or NODE_OPTIONS) are left alone.
 */
import { setFlagsFromString } from 'node:v8';
import { operatorGaveFlag } from './node-flags.js';

const GROWING_PERCENT = 100;

const HEAP_FLAG = /^--(heap-growing-percent|max-old-space-size|max-semi-space-size|initial-old-space-size|initial-heap-size|max-heap-size)\b/;

/** Sets the gate's heap-growing factor; false when the operator gave heap flags (or it failed). */
export function widenHeapGrowth(): boolean {
  if (operatorGaveFlag(HEAP_FLAG)) return false;
  try {
    setFlagsFromString(`--heap-growing-percent=${GROWING_PERCENT}`);
    return true;
  } catch {
    return false;
  }
}
