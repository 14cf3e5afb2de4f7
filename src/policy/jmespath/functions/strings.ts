/** Kyverno string functions (Go `strings` semantics, counted in code points / runes). */
import { Buffer } from 'node:buffer';
import type { FunctionDef, JsonValue } from '../types.js';
import { arg, codePoints, def, fnError, goNumberString, T } from './util.js';
import { compareUtf8 } from './gojson.js';
import { checkInput, compileRe2, expandGoTemplate, wildcardMatch } from './re2.js';

/** Go `strings.Replace(s, old, new, n)`; n < 0 means all. */
export function goReplace(s: string, old: string, repl: string, n: number): string {
  if (n === 0 || old === repl) return s;
  if (old === '') {
    const cps = codePoints(s);
    let out = '';
    let done = 0;
    for (let i = 0; i <= cps.length; i++) {
      if (n < 0 || done < n) {
        out += repl;
        done++;
      }
      if (i < cps.length) out += cps[i];
    }
    return out;
  }
  if (n < 0) return s.split(old).join(repl);
  let out = '';
  let rest = s;
  for (let done = 0; done < n; done++) {
    const at = rest.indexOf(old);
    if (at < 0) break;
    out += rest.slice(0, at) + repl;
    rest = rest.slice(at + old.length);
  }
  return out + rest;
}

/** Go `strings.Trim(s, cutset)`. */
export function goTrim(s: string, cutset: string): string {
  if (s === '' || cutset === '') return s;
  const cut = new Set(codePoints(cutset));
  const cps = codePoints(s);
  let a = 0;
  let b = cps.length;
  while (a < b && cut.has(cps[a] as string)) a++;
  while (b > a && cut.has(cps[b - 1] as string)) b--;
  return cps.slice(a, b).join('');
}

function foldEqualChar(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la === lb && codePoints(la).length === 1) return true;
  const ua = a.toUpperCase();
  return ua === b.toUpperCase() && codePoints(ua).length === 1;
}

/** Go `strings.EqualFold` (simple case folding, rune by rune). */
export function equalFold(a: string, b: string): boolean {
  const ca = codePoints(a);
  const cb = codePoints(b);
  if (ca.length !== cb.length) return false;
  return ca.every((c, i) => foldEqualChar(c, cb[i] as string));
}

/** Go `path.Clean`. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

function srcString(v: JsonValue): string {
  return typeof v === 'number' ? goNumberString(v) : (v as string);
}

function regexReplace(name: string, literal: boolean) {
  return ([pattern, src, repl]: JsonValue[]): JsonValue => {
    const s = srcString(src as JsonValue);
    const r = srcString(repl as JsonValue);
    checkInput(name, s);
    let re: RegExp;
    try {
      re = compileRe2(pattern as string, true);
    } catch (err) {
      throw fnError(name, (err as Error).message);
    }
    return s.replace(re, (...m: unknown[]) => {
      if (literal) return r;
      const last = m[m.length - 1];
      const groups = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : undefined;
      const count = m.length - (groups ? 3 : 2);
      const match = m.slice(0, count).map((x) => (typeof x === 'string' ? x : ''));
      return expandGoTemplate(r, match, groups);
    });
  };
}

export function stringFunctions(): FunctionDef[] {
  return [
    def('compare', [arg(T.string), arg(T.string)], ([a, b]) => compareUtf8(a as string, b as string)),
    def('equal_fold', [arg(T.string), arg(T.string)], ([a, b]) => equalFold(a as string, b as string)),
    def('replace', [arg(T.string), arg(T.string), arg(T.string), arg(T.number)], ([s, o, r, n]) => {
      const count = n as number;
      if (!Number.isInteger(count)) throw fnError('replace', 'n must be an integer');
      return goReplace(s as string, o as string, r as string, count);
    }),
    def('replace_all', [arg(T.string), arg(T.string), arg(T.string)], ([s, o, r]) => goReplace(s as string, o as string, r as string, -1)),
    def('to_upper', [arg(T.string)], ([s]) => (s as string).toUpperCase()),
    def('to_lower', [arg(T.string)], ([s]) => (s as string).toLowerCase()),
    def('trim', [arg(T.string), arg(T.string)], ([s, cut]) => goTrim(s as string, cut as string)),
    def('trim_prefix', [arg(T.string), arg(T.string)], ([s, p]) => ((s as string).startsWith(p as string) ? (s as string).slice((p as string).length) : (s as string))),
    def('split', [arg(T.string), arg(T.string)], ([s, sep]) => (sep === '' ? codePoints(s as string) : (s as string).split(sep as string))),
    def('truncate', [arg(T.string), arg(T.number)], ([s, n]) => {
      const len = Math.max(0, Math.trunc(n as number));
      const cps = codePoints(s as string);
      return cps.length > len ? cps.slice(0, len).join('') : (s as string);
    }),
    def('path_canonicalize', [arg(T.string)], ([p]) => cleanPath(p as string)),
    def('base64_encode', [arg(T.string)], ([s]) => Buffer.from(s as string, 'utf8').toString('base64')),
    def('base64_decode', [arg(T.string)], ([s]) => {
      const text = (s as string).replace(/[\r\n]/g, '');
      if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw fnError('base64_decode', 'illegal base64 data');
      return Buffer.from(text, 'base64').toString('utf8');
    }),
    def('regex_match', [arg(T.string), arg(T.string, T.number)], ([pattern, src]) => {
      const s = srcString(src as JsonValue);
      checkInput('regex_match', s);
      try {
        return compileRe2(pattern as string).test(s);
      } catch (err) {
        throw fnError('regex_match', (err as Error).message);
      }
    }),
    def('regex_replace_all', [arg(T.string), arg(T.string, T.number), arg(T.string, T.number)], regexReplace('regex_replace_all', false)),
    def('regex_replace_all_literal', [arg(T.string), arg(T.string, T.number), arg(T.string, T.number)], regexReplace('regex_replace_all_literal', true)),
    def('pattern_match', [arg(T.string), arg(T.string, T.number)], ([pattern, src]) => wildcardMatch(pattern as string, srcString(src as JsonValue))),
  ];
}
