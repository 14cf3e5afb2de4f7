/**
 * RE2 (Go `regexp`) patterns on JavaScript's RegExp: translate the RE2-only syntax policies use
 * (`(?P<name>…)`, leading `(?i)`/`(?s)`/`(?m)` flags, `\A`, `\z`, POSIX classes, `\pL`) and expand
 * Go replacement templates (`$1`, `${name}`, `$$`). Compiled patterns are cached.
 *
 * Deviation: JavaScript regexes backtrack (RE2 is linear time). Patterns come from policy
 * authors, inputs from manifests; the step budget cannot interrupt a single RegExp call, so
 * inputs are capped at MAX_INPUT characters.
 */
const POSIX: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', space: '\\t\\n\\v\\f\\r ',
  blank: '\\t ', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~', graph: '!-~', ascii: '\\x00-\\x7f',
};
export const MAX_INPUT = 1 << 20;
const cache = new Map<string, RegExp>();

export function translateRe2(pattern: string): { source: string; flags: string } {
  let src = pattern;
  let flags = '';
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1] as string) {
      if (f === 'U') throw new Error('ungreedy flag (?U) is not supported');
      if (!flags.includes(f)) flags += f;
    }
    src = src.slice(lead[0].length);
  }
  src = src
    .replace(/\(\?P</g, '(?<')
    .replace(/\[\[:(\^?)([a-z]+):\]\]/g, (m, neg: string, name: string) => (POSIX[name] ? `[${neg}${POSIX[name]}]` : m))
    .replace(/\[:([a-z]+):\]/g, (m, name: string) => POSIX[name] ?? m)
    .replace(/\\p([A-Z])/g, '\\p{$1}')
    .replace(/\\P([A-Z])/g, '\\P{$1}')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$(?![\\s\\S])');
  return { source: src, flags };
}

/** Compiles an RE2 pattern; throws Error on invalid syntax. `global` for replace-all. */
export function compileRe2(pattern: string, global = false): RegExp {
  const key = `${global ? 'g' : '-'}${pattern}`;
  let re = cache.get(key);
  if (re) {
    re.lastIndex = 0;
    return re;
  }
  const { source, flags } = translateRe2(pattern);
  const f = flags + (global ? 'g' : '');
  try {
    re = new RegExp(source, `${f}u`);
  } catch {
    try {
      re = new RegExp(source, f);
    } catch (err) {
      throw new Error(`error parsing regexp: ${(err as Error).message}`, { cause: err });
    }
  }
  if (cache.size > 1000) cache.clear();
  cache.set(key, re);
  return re;
}

/** Expands a Go replacement template (`$1`, `${1}`, `$name`, `${name}`, `$$`). */
export function expandGoTemplate(template: string, match: string[], groups: Record<string, string | undefined> | undefined): string {
  return template.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (_m, all: string, braced?: string, bare?: string) => {
    if (all === '$') return '$';
    const name = (braced ?? bare) as string;
    if (/^[0-9]+$/.test(name)) return match[Number(name)] ?? '';
    return groups?.[name] ?? '';
  });
}

export function checkInput(fn: string, s: string): void {
  if (s.length > MAX_INPUT) throw new Error(`${fn}(): input longer than ${MAX_INPUT} characters`);
}

/**
 * Glob with `*` (any sequence, also empty) and `?` (exactly one character); everything else is
 * literal and case-sensitive. Whole-string match. Linear-time two-pointer algorithm.
 */
export function wildcardMatch(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  const s = Array.from(name);
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === s[si]))) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
