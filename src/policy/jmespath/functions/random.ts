/**
 * `random(pattern)`: a random string matching a (small) regular expression: literals, `.`,
 * escapes `\d \w \s`, classes `[a-z0-9_-]` / `[^…]`, groups with `|`, quantifiers `* + ? {n} {n,m}`.
 * Nondeterministic by design; unbounded quantifiers repeat at most 8 extra times.
 */
import { randomInt } from 'node:crypto';
import type { FunctionDef } from '../types.js';
import { arg, def, fnError, T } from './util.js';

type Gen = () => string;
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
const DIGITS = '0123456789'.split('');
const WORD = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', ...DIGITS, '_'];
const pick = (chars: string[]): string => chars[randomInt(chars.length)] as string;

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  parse(): Gen {
    const g = this.alternation();
    if (this.i < this.s.length) throw new Error(`unexpected "${this.s[this.i]}" at ${this.i}`);
    return g;
  }

  private alternation(): Gen {
    const branches = [this.sequence()];
    while (this.s[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? (branches[0] as Gen) : () => (branches[randomInt(branches.length)] as Gen)();
  }

  private sequence(): Gen {
    const parts: Gen[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') {
      const atom = this.atom();
      parts.push(this.quantified(atom));
    }
    return () => parts.map((p) => p()).join('');
  }

  private quantified(atom: Gen): Gen {
    const c = this.s[this.i];
    let min = 1;
    let max = 1;
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : min + 8;
    } else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.s.slice(this.i));
      if (!m) return atom;
      this.i += m[0].length;
      min = Number(m[1]);
      max = m[2] ? (m[3] ? Number(m[3]) : min + 8) : min;
      if (max < min || max > 1000) throw new Error('invalid repeat count');
    } else {
      return atom;
    }
    if (this.s[this.i] === '?') this.i++;
    return () => {
      let out = '';
      const n = min + randomInt(max - min + 1);
      for (let k = 0; k < n; k++) out += atom();
      return out;
    };
  }

  private atom(): Gen {
    const c = this.s[this.i++] as string;
    switch (c) {
      case '(': {
        if (this.s.startsWith('?:', this.i)) this.i += 2;
        const g = this.alternation();
        if (this.s[this.i++] !== ')') throw new Error('missing )');
        return g;
      }
      case '[':
        return this.charClass();
      case '.':
        return () => pick(PRINTABLE);
      case '^':
      case '$':
        return () => '';
      case '\\':
        return this.escape();
      default:
        return () => c;
    }
  }

  private escape(): Gen {
    const c = this.s[this.i++];
    if (c === 'd') return () => pick(DIGITS);
    if (c === 'w') return () => pick(WORD);
    if (c === 's') return () => ' ';
    if (c === undefined) throw new Error('trailing backslash');
    return () => c;
  }

  private charClass(): Gen {
    let negate = false;
    if (this.s[this.i] === '^') {
      negate = true;
      this.i++;
    }
    const set = new Set<string>();
    let first = true;
    while (this.i < this.s.length && (this.s[this.i] !== ']' || first)) {
      first = false;
      const c = this.s[this.i++] as string;
      if (c === '\\') {
        const e = this.s[this.i++];
        if (e === 'd') DIGITS.forEach((d) => set.add(d));
        else if (e === 'w') WORD.forEach((d) => set.add(d));
        else if (e === 's') set.add(' ');
        else if (e !== undefined) set.add(e);
        continue;
      }
      if (this.s[this.i] === '-' && this.s[this.i + 1] !== ']' && this.i + 1 < this.s.length) {
        const end = this.s[this.i + 1] as string;
        this.i += 2;
        for (let x = c.charCodeAt(0); x <= end.charCodeAt(0) && set.size < 65536; x++) set.add(String.fromCharCode(x));
        continue;
      }
      set.add(c);
    }
    if (this.s[this.i++] !== ']') throw new Error('missing ]');
    const chars = negate ? PRINTABLE.filter((p) => !set.has(p)) : [...set];
    if (chars.length === 0) throw new Error('empty character class');
    return () => pick(chars);
  }
}

export function randomFromPattern(pattern: string): string {
  return new Parser(pattern).parse()();
}

export function randomFunctions(): FunctionDef[] {
  return [
    def('random', [arg(T.string)], ([pattern]) => {
      try {
        return randomFromPattern(pattern as string);
      } catch (err) {
        throw fnError('random', (err as Error).message);
      }
    }),
  ];
}
