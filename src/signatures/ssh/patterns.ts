/**
 * OpenSSH pattern matching (match.c): `*` matches any run of characters, `?` exactly one, and a
 * pattern list is comma-separated with `!` negating an entry. A list matches when no negated
 * entry matches and at least one positive entry does. Case-sensitive, as in sshsig.c.
 */

/** match_pattern: the whole of `s` against one pattern (linear-time NFA, no backtracking). */
export function matchPattern(s: string, pattern: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return s === pattern;
  const p = [...pattern];
  const m = p.length;
  let states = new Uint8Array(m + 1);
  const closure = (st: Uint8Array): void => {
    for (let i = 0; i < m; i++) if (st[i] && p[i] === '*') st[i + 1] = 1;
  };
  states[0] = 1;
  closure(states);
  for (const ch of s) {
    const next = new Uint8Array(m + 1);
    let active = false;
    for (let i = 0; i < m; i++) {
      if (!states[i]) continue;
      if (p[i] === '*') next[i] = 1;
      else if (p[i] === '?' || p[i] === ch) next[i + 1] = 1;
    }
    closure(next);
    for (const v of next) if (v) active = true;
    if (!active) return false;
    states = next;
  }
  return states[m] === 1;
}

/** match_pattern_list: 1 = matched, 0 = no entry matched, -1 = a negated entry matched. */
export function matchPatternList(s: string, list: string): -1 | 0 | 1 {
  if (list.length === 0) return 0;
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (matchPattern(s, pattern)) {
      if (negated) return -1;
      positive = true;
    }
  }
  return positive ? 1 : 0;
}
