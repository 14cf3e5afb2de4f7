/**
 * How far V8 lets the old generation grow past what the last full GC left live. V8 picks the
 * factor from its measured GC and allocation speeds; for the gate (a ~23 MiB live heap that
 * allocates slowly next to how fast it is collected) it picks its minimum, 1.1. And V8 starts
 * incremental marking as soon as the room left below that limit is less than the young
 * generation could promote, so with a small factor full GCs ran back to back: one every ~200 ms
 * at 300 decisions/s, each a 30-60 ms bump in the answers' latency (marking steps on the main
 * thread while the second core is busy too). A fixed factor of 3 (`--heap-growing-percent=200`)
 * leaves room: in alternated runs of bench/gate.mjs at 300/s (open loop, the same rendering),
 * full GCs fell from 33 to 6 in 11 s, gate CPU from 2.7 to 2.4 ms/decision and the p99 from
 * ~50 to 13-27 ms. It costs memory only as far as the old generation really fills, which
 * promotion does slowly.
 *
 * Set at run time (V8 reads it at every full GC), like optimizer-pause.ts and with the same
 * caveat: V8 flags changed after start are not a supported Node API. An operator's own heap
 * limits or growth factor (arguments or NODE_OPTIONS) are left alone; the young generation's
 * size is a separate knob (young-generation.ts).
 */
import { setFlagsFromString } from 'node:v8';
import { operatorGaveFlag } from './node-flags.js';

const GROWING_PERCENT = 200;

const HEAP_FLAG = /^--(heap-growing-percent|max-old-space-size|initial-old-space-size|initial-heap-size|max-heap-size)\b/;

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
