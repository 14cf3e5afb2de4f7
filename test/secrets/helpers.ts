import { generateSealingKey, type SealingKey } from '../../src/secrets/index.js';

export function secretManifest(overrides: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db-credentials', namespace: 'payments', ...metadata },
    stringData: { username: 'app', password: 'hunter2-plaintext' },
    ...overrides,
  };
}

/** Keys with distinct, increasing creation times. */
export function keysAt(...isoDates: string[]): SealingKey[] {
  return isoDates.map((d) => generateSealingKey(new Date(d)));
}

export function b64(s: string | Uint8Array): string {
  return Buffer.from(s).toString('base64');
}

export function fromB64(s: string | undefined): Buffer {
  if (s === undefined) throw new Error('missing value');
  return Buffer.from(s, 'base64');
}

/** Runs fn and returns what it threw (fails the test if it did not throw). */
export function thrown(fn: () => unknown): Error & { code?: string; location?: unknown } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error');
}

export async function rejected(fn: () => Promise<unknown>): Promise<Error & { code?: string; location?: { file?: string } }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
