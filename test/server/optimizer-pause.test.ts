/**
 * pauseOptimizingCompilers: paused once per process, never when the operator gave node compiler
 * flags of their own. Run in child processes (the built module, like the CLI tests): V8 flags are
 * process-wide, and this test's own process must not be touched.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cli/run-cli.js';

const MODULE = path.join(REPO_ROOT, 'dist', 'server', 'optimizer-pause.js');

function run(nodeArgs: string[], env: NodeJS.ProcessEnv = {}): unknown {
  const script = `const m = await import(${JSON.stringify(MODULE)});
const first = m.pauseOptimizingCompilers();
const second = m.pauseOptimizingCompilers();
m.resumeOptimizingCompilers();
m.resumeOptimizingCompilers();
const third = m.pauseOptimizingCompilers();
let x = 0; for (let i = 0; i < 1e6; i++) x += i % 7;
console.log(JSON.stringify({ first, second, third, x }));`;
  const out = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '', ...env }, encoding: 'utf8' });
  return JSON.parse(out);
}

describe('pauseOptimizingCompilers', () => {
  it('pauses once per process; resuming twice is harmless', () => {
    expect(run([])).toEqual({ first: true, second: false, third: false, x: 2999997 });
  });

  it('leaves alone a process started with its own compiler flags (arguments or NODE_OPTIONS)', () => {
    expect(run(['--no-opt'])).toMatchObject({ first: false });
    expect(run(['--max-opt=2'])).toMatchObject({ first: false });
    expect(run(['--no_maglev'])).toMatchObject({ first: false });
    expect(run([], { NODE_OPTIONS: '--jitless' })).toMatchObject({ first: false });
  });
});
