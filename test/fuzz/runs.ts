/**
 * How many generated inputs each property gets. CI runs the default; a long campaign sets
 * FUZZ_RUNS (e.g. FUZZ_RUNS=100000 npx vitest run --project unit test/fuzz).
 */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** Per-test time limit scaled with the run count. */
export const FUZZ_TIMEOUT_MS = Math.max(60_000, FUZZ_RUNS * 20);
