import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS, youngGenerationAdvice } from '../../src/server/young-generation.js';
import { REPO_ROOT } from '../cli/run-cli.js';

/** The young generation's committed size (MiB) after a burst of allocation, in a child node. */
function youngGenerationMiB(nodeArgs: readonly string[]): number {
  const script = `const v8 = await import('node:v8');
const keep = [];
for (let i = 0; i < 2e6; i++) { const o = { i, s: 'x' + i }; if (i % 3 === 0) keep.push(o); if (keep.length > 20000) keep.splice(0, 10000); }
console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);`;
  const out = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' });
  return Number(out.trim()) / 1024 / 1024;
}

describe('the young generation size the gate is started with', () => {
  const saved = process.env.NODE_OPTIONS;
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  });

  it('bounds V8’s young generation (it grows to 64 MiB without)', () => {
    expect(youngGenerationMiB(SERVE_NODE_FLAGS)).toBeLessThanOrEqual(16);
    expect(youngGenerationMiB([])).toBeGreaterThan(16);
  });

  it('is what the image, npm start and the benchmark start node with', () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(entrypoint.slice(entrypoint.indexOf('node') + 1, entrypoint.indexOf('/app/dist/bundle/syncgate.js'))).toEqual([...SERVE_NODE_FLAGS]);
    const start = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    expect(start).toBe(`node ${SERVE_NODE_FLAGS.join(' ')} dist/bundle/syncgate.js serve`);
    expect(readFileSync(path.join(REPO_ROOT, 'bench', 'gate.mjs'), 'utf8')).toContain('[...SERVE_NODE_FLAGS, ...nodeArgs, cli, ');
  });

  it('serve says so when node was started without it, and not when it was given', () => {
    process.env.NODE_OPTIONS = '';
    expect(youngGenerationAdvice()).toContain('--max-semi-space-size=8');
    process.env.NODE_OPTIONS = '--max-semi-space-size=16';
    expect(youngGenerationAdvice()).toBeUndefined();
  });
});
