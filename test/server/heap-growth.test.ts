/**
 * widenHeapGrowth: V8 then grows the old generation by a factor of 3 after a full GC (its own
 * trace says so), unless the operator gave heap flags. In child processes: V8 flags are
 * process-wide, and this test's own process must not be touched.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cli/run-cli.js';

const MODULE = path.join(REPO_ROOT, 'dist', 'server', 'heap-growth.js');

/** The factors V8's heap controller reports after full GCs, and what widenHeapGrowth returned. */
function run(nodeArgs: string[], env: NodeJS.ProcessEnv = {}): { widened: boolean; factors: string[] } {
  const script = `const m = await import(${JSON.stringify(MODULE)});
const widened = m.widenHeapGrowth();
const keep = [];
for (let r = 0; r < 40; r++) { const a = []; for (let i = 0; i < 20000; i++) a.push({ i, s: 'x' + i }); keep.push(a); }
console.log(JSON.stringify({ widened }));`;
  const out = execFileSync(process.execPath, ['--trace-gc-verbose', ...nodeArgs, '--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '', ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // V8's trace lines can come after the script's own line (a GC at exit)
  const result = out.split('\n').find((l) => l.startsWith('{"widened":'));
  const factors = [...out.matchAll(/\[HeapController\] factor ([0-9.]+)/g)].map((m) => m[1]!);
  return { widened: (JSON.parse(result ?? 'null') as { widened: boolean }).widened, factors };
}

describe('widenHeapGrowth', () => {
  it('makes V8 grow the old generation by a factor of 3', () => {
    const { widened, factors } = run([]);
    expect(widened).toBe(true);
    expect(factors.length).toBeGreaterThan(0);
    expect(new Set(factors)).toEqual(new Set(['3.0']));
  });

  it('still applies when node was given only a young-generation size (as the image starts it)', () => {
    const { widened, factors } = run(['--max-semi-space-size=8']);
    expect(widened).toBe(true);
    expect(new Set(factors)).toEqual(new Set(['3.0']));
  });

  it('leaves alone a process started with heap flags of its own', () => {
    expect(run(['--max-old-space-size=512']).widened).toBe(false);
    expect(run(['--heap-growing-percent=50']).widened).toBe(false);
    expect(run([], { NODE_OPTIONS: '--max-old-space-size=256' }).widened).toBe(false);
  });
});
