/**
 * `semver_compare(version, range)` with blang/semver range syntax (what Kyverno uses):
 * comparators `=`/`==`/(none), `!`/`!=`, `>`, `>=`, `<`, `<=`; space = AND, `||` = OR;
 * `x`/`X`/`*` wildcards in minor/patch. Pre-releases compare by SemVer 2.0 precedence and are
 * not excluded from ranges (unlike node-semver ranges), so only `semver`'s parse/compare are used.
 */
// The two functions alone: the package's index loads all 47 of its modules (~10 ms of the gate's start).
import compareVersions from 'semver/functions/compare.js';
import parseVersionText from 'semver/functions/parse.js';
import type { FunctionDef } from '../types.js';
import { arg, def, fnError, T } from './util.js';

type Op = '==' | '!=' | '>' | '>=' | '<' | '<=';
type Comparator = { op: Op; version: string };

function parseVersion(v: string): string {
  if (!/^[0-9]/.test(v)) throw new Error(`invalid version "${v}"`);
  const parsed = parseVersionText(v);
  if (!parsed) throw new Error(`invalid version "${v}"`);
  return parsed.version;
}

function normalizeOp(op: string): Op {
  switch (op) {
    case '':
    case '=':
    case '==':
      return '==';
    case '!':
    case '!=':
      return '!=';
    case '>':
    case '>=':
    case '<':
    case '<=':
      return op;
    default:
      throw new Error(`invalid operator "${op}"`);
  }
}

function expand(op: Op, v: string): Comparator[] {
  const parts = v.split('.');
  const wild = (p: string | undefined) => p === 'x' || p === 'X' || p === '*';
  if (parts.length !== 3 || !(wild(parts[1]) || wild(parts[2]))) return [{ op, version: parseVersion(v) }];
  if (wild(parts[0])) throw new Error(`wildcard in major version is not supported: "${v}"`);
  const major = Number(parts[0]);
  let low: string;
  let next: string;
  if (wild(parts[1])) {
    if (!wild(parts[2])) throw new Error(`invalid wildcard version "${v}"`);
    low = `${major}.0.0`;
    next = `${major + 1}.0.0`;
  } else {
    const minor = Number(parts[1]);
    low = `${major}.${minor}.0`;
    next = `${major}.${minor + 1}.0`;
  }
  parseVersion(low);
  switch (op) {
    case '==':
      return [{ op: '>=', version: low }, { op: '<', version: next }];
    case '>':
      return [{ op: '>=', version: next }];
    case '>=':
      return [{ op: '>=', version: low }];
    case '<':
      return [{ op: '<', version: low }];
    case '<=':
      return [{ op: '<', version: next }];
    default:
      throw new Error(`operator ${op} cannot be used with a wildcard version`);
  }
}

/** Parses a blang range into OR-of-AND comparators. Throws Error on bad syntax. */
export function parseRange(range: string): Comparator[][] {
  const ors = range.split('||').map((s) => s.trim());
  return ors.map((group) => {
    if (group === '') throw new Error(`invalid range "${range}"`);
    const tokens = group.replace(/([<>=!]+)\s+/g, '$1').split(/\s+/);
    return tokens.flatMap((tok) => {
      const m = /^([<>=!]*)(.+)$/.exec(tok);
      if (!m) throw new Error(`invalid comparator "${tok}"`);
      return expand(normalizeOp(m[1] as string), m[2] as string);
    });
  });
}

function holds(c: Comparator, v: string): boolean {
  const r = compareVersions(v, c.version);
  switch (c.op) {
    case '==':
      return r === 0;
    case '!=':
      return r !== 0;
    case '>':
      return r > 0;
    case '>=':
      return r >= 0;
    case '<':
      return r < 0;
    case '<=':
      return r <= 0;
  }
}

export function semverCompare(version: string, range: string): boolean {
  const v = parseVersion(version);
  return parseRange(range).some((and) => and.every((c) => holds(c, v)));
}

export function semverFunctions(): FunctionDef[] {
  return [
    def('semver_compare', [arg(T.string), arg(T.string)], ([v, r]) => {
      try {
        return semverCompare(v as string, r as string);
      } catch (err) {
        throw fnError('semver_compare', (err as Error).message);
      }
    }),
  ];
}
