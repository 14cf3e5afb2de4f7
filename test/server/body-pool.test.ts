import { describe, expect, it } from 'vitest';
import { BodyBufferPool } from '../../src/server/body-pool.js';

describe('BodyBufferPool', () => {
  it('gives a buffer of at least the size asked for, and the same buffer again once given back', () => {
    const pool = new BodyBufferPool(1024 * 1024);
    const a = pool.take(100_000);
    expect(a.length).toBeGreaterThanOrEqual(100_000);
    pool.give(a);
    expect(pool.stats()).toEqual({ buffers: 1, bytes: a.length });
    expect(pool.take(90_000)).toBe(a);
    expect(pool.stats()).toEqual({ buffers: 0, bytes: 0 });
  });

  it('never hands out one buffer twice before it comes back', () => {
    const pool = new BodyBufferPool(1024 * 1024);
    const a = pool.take(1000);
    pool.give(a);
    const b = pool.take(1000);
    const c = pool.take(1000);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('takes the smallest free buffer that fits, and a new one when none does', () => {
    const pool = new BodyBufferPool(4 * 1024 * 1024);
    const small = pool.take(64 * 1024);
    const large = pool.take(1024 * 1024);
    pool.give(large);
    pool.give(small);
    expect(pool.take(10)).toBe(small);
    const bigger = pool.take(2 * 1024 * 1024);
    expect(bigger).not.toBe(large);
    expect(bigger.length).toBeGreaterThanOrEqual(2 * 1024 * 1024);
  });

  it('keeps no more than its bound', () => {
    const pool = new BodyBufferPool(200 * 1024);
    const buffers = [pool.take(64 * 1024), pool.take(64 * 1024), pool.take(64 * 1024), pool.take(64 * 1024)];
    for (const b of buffers) pool.give(b);
    expect(pool.stats()).toEqual({ buffers: 3, bytes: 3 * 64 * 1024 });
  });
});
