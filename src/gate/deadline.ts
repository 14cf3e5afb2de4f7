import { SyncgateError } from '../errors.js';

/** Resolves with `work`, or rejects with a coded error once `ms` have passed. */
export async function withDeadline<T>(work: Promise<T>, ms: number, code: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SyncgateError(code, `${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
