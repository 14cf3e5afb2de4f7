/**
 * LazyMethodVerifier: the real verifier is loaded on the first signature of its method only, once
 * for concurrent callers; a load failure denies (VERIFICATION_ERROR, never cached) and the next
 * signature tries again; change listeners registered before the load reach the real verifier.
 */
import { describe, expect, it } from 'vitest';
import { LazyMethodVerifier } from '../../src/signatures/lazy-method.js';
import type { CryptoOutcome, MethodInput, MethodVerifier } from '../../src/signatures/method.js';

const INPUT = {} as MethodInput;

function stub(listeners: (() => void)[] = []): MethodVerifier {
  return {
    method: 'ssh',
    verify: async (): Promise<CryptoOutcome> => ({ method: 'ssh', early: { code: 'UNKNOWN_KEY', message: 'not listed' } }),
    onChange: (l) => listeners.push(l),
  };
}

describe('LazyMethodVerifier', () => {
  it('loads nothing until the first signature, then once, and answers with the real verifier', async () => {
    let loads = 0;
    const lazy = new LazyMethodVerifier('ssh', async () => {
      loads++;
      return stub();
    });
    expect(lazy.method).toBe('ssh');
    expect(loads).toBe(0);
    const outcomes = await Promise.all([lazy.verify(INPUT), lazy.verify(INPUT), lazy.verify(INPUT)]);
    expect(loads).toBe(1);
    for (const o of outcomes) expect(o).toEqual({ method: 'ssh', early: { code: 'UNKNOWN_KEY', message: 'not listed' } });
    await lazy.verify(INPUT);
    expect(loads).toBe(1);
  });

  it('a load failure is a deny (VERIFICATION_ERROR), not cached; the next signature loads again', async () => {
    let loads = 0;
    const lazy = new LazyMethodVerifier('gitsign', async () => {
      loads++;
      if (loads === 1) throw new Error('Cannot find module');
      return { ...stub(), method: 'gitsign', verify: async () => ({ method: 'gitsign', early: { code: 'TRUSTED_ROOT_MISSING', message: 'no root' } }) } as MethodVerifier;
    });
    const failed = await lazy.verify(INPUT);
    expect(failed).toMatchObject({ method: 'gitsign', transient: true, early: { code: 'VERIFICATION_ERROR' } });
    expect(failed.early?.message).toContain('Cannot find module');
    expect(failed.signer).toBeUndefined();
    expect((await lazy.verify(INPUT)).early?.code).toBe('TRUSTED_ROOT_MISSING');
    expect(loads).toBe(2);
  });

  it('a verifier for another method is refused (a deny), never used', async () => {
    const lazy = new LazyMethodVerifier('gitsign', async () => stub());
    expect(await lazy.verify(INPUT)).toMatchObject({ method: 'gitsign', early: { code: 'VERIFICATION_ERROR' } });
  });

  it('change listeners registered before the load are handed to the real verifier', async () => {
    const listeners: (() => void)[] = [];
    const lazy = new LazyMethodVerifier('ssh', async () => stub(listeners));
    let changes = 0;
    lazy.onChange(() => changes++);
    expect(listeners).toHaveLength(0);
    await lazy.verify(INPUT);
    expect(listeners).toHaveLength(1);
    listeners[0]!();
    expect(changes).toBe(1);
  });
});
