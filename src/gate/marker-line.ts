/**
 * Whether what follows `---` on a marker line (up to its `\n`) is only blanks or a comment. A
 * `\r` before the end is a line break to YAML (and a `\n` inside an escaped line is one too):
 * what comes after it is content, so such a line is not a bare marker and the stream is parsed
 * whole.
 */
export function isMarkerRest(rest: string): boolean {
  const line = rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  if (/[\r\n]/.test(line)) return false;
  const trimmed = line.trim();
  return trimmed === '' || trimmed.startsWith('#');
}
