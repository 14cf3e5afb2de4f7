/** Whether node was started with a flag matching `pattern` (in its arguments or NODE_OPTIONS; `_` read as `-`). */
export function operatorGaveFlag(pattern: RegExp): boolean {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return args.some((a) => pattern.test(a.replaceAll('_', '-')));
}
