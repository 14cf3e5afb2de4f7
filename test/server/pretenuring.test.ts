/**
 * stopPretenuring: V8 then makes no pretenuring decision (its own trace says so), unless the
 * operator set the flag. In child processes: V8 flags are process-wide, and this test's own
 * process must not be touched.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cli/run-cli.js';

const MODULE = path.join(REPO_ROOT, 'dist', 'server', 'pretenuring.js');

/** V8's pretenuring statistics (its decisions, `=> tenure`) while one allocation site makes objects that all survive, and what stopPretenuring returned. */
function run(nodeArgs: string[], stop = true): { stopped: boolean | null; tenured: number } {
  const script = `const m = await import(${JSON.stringify(MODULE)});
const stopped = ${stop ? 'm.stopPretenuring()' : 'null'};
const make = (i) => ({ i, s: 'x' + i });
const keep = [];
for (let r = 0; r < 60; r++) { const a = []; for (let i = 0; i < 20000; i++) a.push(make(i)); keep.push(a); }
console.log(JSON.stringify({ stopped }));`;
  // Unoptimized code and a single-threaded GC: optimized code may allocate these objects without
  // the mementos V8 counts, and then whether it decides at all depends on timing (on a busy
  // machine it often did not).
  const out = execFileSync(process.execPath, ['--trace-pretenuring-statistics', '--no-opt', '--no-maglev', '--single-threaded-gc', ...nodeArgs, '--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const result = out.split('\n').find((l) => l.startsWith('{"stopped":'));
  return { stopped: (JSON.parse(result ?? 'null') as { stopped: boolean | null }).stopped, tenured: [...out.matchAll(/=> tenure$/gm)].length };
}

describe('stopPretenuring', () => {
  it('V8 pretenures a site whose objects all survive, and does not once it is stopped', () => {
    expect(run([], false).tenured).toBeGreaterThan(0);
    expect(run([])).toEqual({ stopped: true, tenured: 0 });
    expect(run(['--max-semi-space-size=8'])).toEqual({ stopped: true, tenured: 0 });
  });

  it('leaves alone a process whose operator set the flag either way', () => {
    expect(run(['--allocation-site-pretenuring']).stopped).toBe(false);
    expect(run(['--allocation-site-pretenuring']).tenured).toBeGreaterThan(0);
    // (node refuses V8's pretenuring flags in NODE_OPTIONS: only its arguments can carry them)
    expect(run(['--no-allocation-site-pretenuring'])).toEqual({ stopped: false, tenured: 0 });
  });
});
