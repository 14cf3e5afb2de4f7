/**
 * The key grammar of assertion trees (kyverno-json `expression.Parse`), applied in order:
 * 1. foreach prefix `~name.` / `~.`; 2. binding suffix `->name` (longest prefix, so whitespace
 * before `->` stays in the statement); 3. escape `\…\` (a plain key, no expression detection);
 * 4. expression `( … )` with optional compiler prefix `(jp;…)`/`(cel;…)`; 5. anything else is plain.
 * Go's `.` does not match a newline; the patterns below keep that.
 */
const FOREACH = /^~(\w+)?\.([^\n]*)/;
const BINDING = /([^\n]*)\s*->\s*(\w+)$/;
const ESCAPE = /^\\([^\n]+)\\$/;
const EXPRESSION = /^\((?:(\w+);)?([^\n]+)\)$/;

export interface ParsedKey {
  foreach: boolean;
  foreachName: string | undefined;
  binding: string | undefined;
  /** `plain`: literal lookup; `expression`: evaluate `statement` */
  kind: 'plain' | 'expression';
  /** the compiler prefix of an expression (`jp`, `cel`, or another word), undefined when absent */
  compiler: string | undefined;
  escaped: boolean;
  statement: string;
}

export function parseKey(input: string): ParsedKey {
  let rest = input;
  let foreach = false;
  let foreachName: string | undefined;
  let binding: string | undefined;
  const f = FOREACH.exec(rest);
  if (f) {
    foreach = true;
    foreachName = f[1] || undefined;
    rest = f[2] as string;
  }
  // (the pattern cannot match without "->", and tried at every position of a key it takes time
  // quadratic in the key's length: 13 % of loading the policy library)
  const b = rest.includes('->') ? BINDING.exec(rest) : null;
  if (b) {
    binding = b[2];
    rest = b[1] as string;
  }
  const e = ESCAPE.exec(rest);
  if (e) return { foreach, foreachName, binding, kind: 'plain', compiler: undefined, escaped: true, statement: e[1] as string };
  const x = EXPRESSION.exec(rest);
  if (x) return { foreach, foreachName, binding, kind: 'expression', compiler: x[1] || undefined, escaped: false, statement: x[2] as string };
  return { foreach, foreachName, binding, kind: 'plain', compiler: undefined, escaped: false, statement: rest };
}
