import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream };
}

describe('ProgressBar', () => {
  it('draws on a terminal and clears the line when done', () => {
    const { writes, stream } = fakeStream(true);
    const bar = new ProgressBar(4, 'verifying', stream);
    bar.tick(4);
    bar.done();
    expect(writes[0]).toBe(`\rverifying [${'#'.repeat(30)}] 4/4`);
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('stays silent when stderr is not a terminal', () => {
    const { writes, stream } = fakeStream(false);
    const bar = new ProgressBar(4, 'verifying', stream);
    bar.tick(2);
    bar.done();
    expect(writes).toEqual([]);
  });
});
