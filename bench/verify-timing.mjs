// What the commit-verification benches (verify.mjs, verify-ssh.mjs, verify-gitsign.mjs) share: the
// child-process helper, the time format, and the syncgate timing loop (one cold pass, then the
// median of 5 cached passes).
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'buffer', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'], ...opts });
}

export function fmt(ms) {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`;
}

/**
 * Times verifier.verifyObject over the commits: a cold pass (every commit must verify), then 5
 * cached passes over the same commits. Milliseconds per commit: { cold, cached } (cached: the median pass).
 */
export async function timeCommits(verifier, raws) {
  let start = performance.now();
  for (const raw of raws) {
    const r = await verifier.verifyObject({ raw, kind: 'commit' });
    if (!r.verified) throw new Error(`bench commit not verified: ${r.reason?.code} ${r.reason?.message}`);
  }
  const cold = (performance.now() - start) / raws.length;

  // Cached re-verification: the median of 5 passes over the same commits.
  const passes = [];
  for (let p = 0; p < 5; p++) {
    start = performance.now();
    for (const raw of raws) await verifier.verifyObject({ raw, kind: 'commit' });
    passes.push((performance.now() - start) / raws.length);
  }
  return { cold, cached: passes.sort((a, b) => a - b)[2] };
}
