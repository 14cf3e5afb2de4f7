/** compactHeap: one memory-reducing collection, without leaving a gc function behind. */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compactHeap } from '../../src/server/heap.js';

describe('compactHeap', () => {
  it('runs a collection and leaves no gc on the global, nor in contexts made afterwards', () => {
    const hadGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
    expect(compactHeap()).toBe(true);
    expect(typeof (globalThis as { gc?: unknown }).gc === 'function').toBe(hadGc);
    if (!hadGc) expect(runInNewContext('typeof gc')).toBe('undefined');
    expect(compactHeap()).toBe(true);
  });
});
