/**
 * The process-wide JMESPath runtime with the kyverno-json function table. Evaluation is
 * synchronous, so one instance serves every caller; compiled expressions are cached in it.
 */
import { JmesPath } from './jmespath/interpreter.js';
import { kyvernoFunctions } from './jmespath/functions/index.js';
import type { FunctionEnv } from './jmespath/types.js';

let clock: () => Date = () => new Date();
const env: FunctionEnv = { now: () => clock() };

export const jmespath = new JmesPath(kyvernoFunctions, env);

/** Runs `fn` with `time_now()` & co. reading `now` (tests, reproducible evaluations). */
export function withClock<T>(now: (() => Date) | undefined, fn: () => T): T {
  if (!now) return fn();
  const saved = clock;
  clock = now;
  try {
    return fn();
  } finally {
    clock = saved;
  }
}
