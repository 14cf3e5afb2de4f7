import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jmespath } from '../../src/policy/index.js';
import { jp } from './helpers.js';

const err = (expr: string, data: unknown = null) => expect(() => jp(expr, data as never)).toThrow();

describe('JMESPath dialect', () => {
  it('variables, let, arithmetic, string slices', () => {
    expect(jp('let $x = `0` in [$x, let $y = `1` in $x]')).toEqual([0, 0]);
    expect(jp('a + b', { a: 1, b: 2 })).toBe(3);
    expect(jp('a // b', { a: 7, b: 2 })).toBe(3);
    expect(jp('a % b', { a: 7, b: 2 })).toBe(1);
    expect(jp("a + 'x'", { a: 1 })).toBeNull();
    expect(jp("'abc'[1:]")).toBe('bc');
    err('a / `0`', { a: 1 });
  });

  it('field access reads own properties only', () => {
    expect(jp('a.constructor', { a: {} })).toBeNull();
    expect(jp('a.toString', { a: {} })).toBeNull();
  });

  it('exprefs see let bindings; objects with an expref key stay objects', () => {
    expect(jp('let $x = `2` in map(&multiply(@, $x), `[1,2]`)')).toEqual([2, 4]);
    expect(jp('keys(@)', { expref: true })).toEqual(['expref']);
  });

  it('comparisons: numbers only, else null; == is deep', () => {
    expect(jp("a > 'x'", { a: 1 })).toBeNull();
    expect(jp('a == `{"b":[1]}`', { a: { b: [1] } })).toBe(true);
    expect(jp('`3` == `3.0`')).toBe(true);
  });

  it('undefined variables and unknown functions are errors', () => {
    err('$nope');
    err('nope()');
  });
});

describe('built-ins (JMESPath community, corrected)', () => {
  it('contains: deep equality; non-string search in a string is false', () => {
    expect(jp('contains(a, `{"x":1}`)', { a: [{ x: 1 }] })).toBe(true);
    expect(jp("contains('abc', `1`)")).toBe(false);
    expect(jp("contains('abc', 'b')")).toBe(true);
  });
  it('sort / max / min order numbers numerically and strings by code point', () => {
    expect(jp('sort(`[10, 9, 1]`)')).toEqual([1, 9, 10]);
    expect(jp("sort(['b', 'B', 'a'])")).toEqual(['B', 'a', 'b']);
    expect(jp('max(`[1, 10, 9]`)')).toBe(10);
    expect(jp("min(['b', 'a'])")).toBe('a');
    expect(jp('max(`[]`)')).toBeNull();
    expect(jp('max(a)', { a: Array.from({ length: 200_000 }, (_, i) => i) })).toBe(199_999);
  });
  it('to_number is strict; to_string is Go JSON', () => {
    expect(jp("to_number('')")).toBeNull();
    expect(jp("to_number('1.5')")).toBe(1.5);
    expect(jp("to_number('0x10')")).toBeNull();
    expect(jp('to_number(`true`)')).toBeNull();
    expect(jp('to_string(`{"b":1,"a":"<&>"}`)')).toBe('{"a":"\\u003c\\u0026\\u003e","b":1}');
    expect(jp("to_string('x')")).toBe('x');
  });
  it('length counts code points; avg; from_items; find_first; pad', () => {
    expect(jp("length('héllo😀')")).toBe(6);
    expect(jp('avg(`[]`)')).toBeNull();
    expect(jp('avg(`[1, 2]`)')).toBe(1.5);
    expect(jp('from_items(`[["a", 1]]`)')).toEqual({ a: 1 });
    expect(jp("find_first('abcabc', 'c')")).toBe(2);
    expect(jp("pad_left('7', `3`, '0')")).toBe('007');
  });
});

describe('kyverno-json functions', () => {
  it('at', () => {
    expect(jp('at(`[1, 2]`, `1`)')).toBe(2);
    err('at(`[1, 2]`, `2`)');
    err('at(`[1, 2]`, `0.5`)');
  });
  it('concat, json_parse', () => {
    expect(jp("concat('a', 'b')")).toBe('ab');
    expect(jp('json_parse(s)', { s: '{"a":[1]}' })).toEqual({ a: [1] });
    err("json_parse('{')");
  });
  it('wildcard: * any sequence, ? one character, literal otherwise', () => {
    expect(jp("wildcard('bypass-*', 'bypass-x')")).toBe(true);
    expect(jp("wildcard('?*', '')")).toBe(false);
    expect(jp("wildcard('?*', 'x')")).toBe(true);
    expect(jp("wildcard('', '')")).toBe(true);
    expect(jp("wildcard('', 'x')")).toBe(false);
    expect(jp("wildcard('a?c', 'aéc')")).toBe(true);
    expect(jp("wildcard('A*', 'abc')")).toBe(false);
    expect(jp("wildcard('*.[ch]', 'x.[ch]')")).toBe(true);
  });
});

describe('Kyverno string functions', () => {
  it('compare, equal_fold, to_upper/lower', () => {
    expect(jp("compare('a', 'b')")).toBe(-1);
    expect(jp("compare('b', 'b')")).toBe(0);
    expect(jp("equal_fold('Go', 'GO')")).toBe(true);
    expect(jp("equal_fold('ß', 'SS')")).toBe(false);
    expect(jp("to_upper('abc')")).toBe('ABC');
  });
  it('replace needs 4 arguments; n < 0 replaces all', () => {
    expect(jp("replace('aaa', 'a', 'b', `1`)")).toBe('baa');
    expect(jp("replace('aaa', 'a', 'b', `-1`)")).toBe('bbb');
    err("replace('aaa', 'a', 'b')");
    expect(jp("replace_all('a.b.c', '.', '/')")).toBe('a/b/c');
  });
  it('trim needs a cutset; trim_prefix; split (2 args, empty sep splits characters)', () => {
    expect(jp("trim('xxhixx', 'x')")).toBe('hi');
    err("trim('  hi  ')");
    expect(jp("trim_prefix('v1.2', 'v')")).toBe('1.2');
    expect(jp("split('a,b', ',')")).toEqual(['a', 'b']);
    expect(jp("split('hé', '')")).toEqual(['h', 'é']);
    err("split('a,b', ',', `1`)");
  });
  it('truncate, path_canonicalize, base64', () => {
    expect(jp("truncate('hello', `2`)")).toBe('he');
    expect(jp("truncate('hello', `-1`)")).toBe('');
    expect(jp("path_canonicalize('/a//b/./c/../d')")).toBe('/a/b/d');
    expect(jp("path_canonicalize('/../x')")).toBe('/x');
    expect(jp("base64_encode('hi')")).toBe('aGk=');
    expect(jp("base64_decode('aGk=')")).toBe('hi');
    err("base64_decode('a')");
  });
  it('regex_match is an unanchored RE2 search; numbers are formatted', () => {
    expect(jp("regex_match('^[0-9]+$', '123')")).toBe(true);
    expect(jp("regex_match('b', 'abc')")).toBe(true);
    expect(jp("regex_match('^1.5$', `1.5`)")).toBe(true);
    expect(jp("regex_match('(?i)^ABC$', 'abc')")).toBe(true);
    expect(jp("regex_match('[[:digit:]]+', 'x1')")).toBe(true);
    err("regex_match('(', 'x')");
  });
  it('regex_replace_all expands Go templates; _literal does not', () => {
    expect(jp("regex_replace_all('([a-z]+)-([0-9]+)', 'abc-12', '$2-$1')")).toBe('12-abc');
    expect(jp("regex_replace_all('(?P<w>[a-z]+)', 'ab', '<${w}>')")).toBe('<ab>');
    expect(jp("regex_replace_all('a', 'aa', '$1x')")).toBe('');
    expect(jp("regex_replace_all_literal('a', 'aa', '$1')")).toBe('$1$1');
  });
  it('pattern_match', () => {
    expect(jp("pattern_match('1*', `123`)")).toBe(true);
    expect(jp("pattern_match('a?', 'abc')")).toBe(false);
  });
});

describe('Kyverno arithmetic (numbers, quantities, durations)', () => {
  it('numbers', () => {
    expect(jp('add(`1`, `2`)')).toBe(3);
    expect(jp('subtract(`1`, `2`)')).toBe(-1);
    expect(jp('multiply(`3`, `2`)')).toBe(6);
    expect(jp('divide(`3`, `2`)')).toBe(1.5);
    expect(jp('modulo(`7`, `3`)')).toBe(1);
    err('divide(`1`, `0`)');
    err('modulo(`7.5`, `2`)');
    err('modulo(`7`, `0`)');
  });
  it('quantities keep the first operand format and print canonically', () => {
    expect(jp("add('1Gi', '512Mi')")).toBe('1536Mi');
    expect(jp("add('1Gi', '1Gi')")).toBe('2Gi');
    expect(jp("add('100m', '900m')")).toBe('1');
    expect(jp("subtract('1', '250m')")).toBe('750m');
    expect(jp("add('1k', '1')")).toBe('1001');
    expect(jp("add('2', '1')")).toBe('3');
    expect(jp("multiply('100Mi', `2`)")).toBe('200Mi');
    expect(jp("multiply(`2`, '250m')")).toBe('500m');
    expect(jp("divide('1Gi', '512Mi')")).toBe(2);
    expect(jp("divide('1Gi', `2`)")).toBe('512Mi');
    expect(jp("modulo('10', '3')")).toBe('1');
    expect(jp("add('1e3', '1e3')")).toBe('2e3');
    err("add('1Gi', `1`)");
  });
  it("durations; a string is tried as a quantity first ('1m' is one milli)", () => {
    expect(jp("add('1h', '30s')")).toBe('1h0m30s');
    expect(jp("subtract('1h', '90s')")).toBe('58m30s');
    expect(jp("multiply('1.5s', `2`)")).toBe('3s');
    expect(jp("divide('1h', '30s')")).toBe(120);
    expect(jp("divide('1h', `4`)")).toBe('15m0s');
    expect(jp("modulo('90s', '1h')")).toBe('1m30s');
    expect(jp("add('1m', '1m')")).toBe('2m');
    err("add('1h', '30m')");
    err("add('1h', 'xyz')");
  });
  it('sum folds add; an empty array is an error', () => {
    expect(jp('sum(`[1, 2, 3]`)')).toBe(6);
    expect(jp("sum(['1Gi', '1Gi'])")).toBe('2Gi');
    expect(jp("sum(['1s', '500ms'])")).toBe('1.5s');
    err('sum(`[]`)');
  });
  it('round: half away from zero, non-negative integer digits', () => {
    expect(jp('round(`2.5`, `0`)')).toBe(3);
    expect(jp('round(`-2.5`, `0`)')).toBe(-3);
    expect(jp('round(`1.23456`, `2`)')).toBe(1.23);
    err('round(`1.5`, `-1`)');
    err('round(`1.5`, `0.5`)');
  });
});

describe('Kyverno time functions', () => {
  it('parse with Go layouts and print RFC 3339 (offset preserved)', () => {
    expect(jp("time_parse('2006-01-02', '2021-02-03')")).toBe('2021-02-03T00:00:00Z');
    expect(jp("time_parse('Mon Jan _2 15:04:05 MST 2006', 'Tue Feb  3 04:05:06 UTC 2021')")).toBe('2021-02-03T04:05:06Z');
    expect(jp("time_parse('2006-01-02T15:04:05Z07:00', '2021-02-03T04:05:06+02:00')")).toBe('2021-02-03T04:05:06+02:00');
    expect(jp("time_parse('02 Jan 06 15:04 -0700', '03 Feb 21 04:05 -0130')")).toBe('2021-02-03T04:05:00-01:30');
    expect(jp("time_parse('2006-01-02 3:04PM', '2021-02-03 4:05PM')")).toBe('2021-02-03T16:05:00Z');
    expect(jp("time_parse('1136239445', '1136239445')")).toBe('2006-01-02T22:04:05Z');
    err("time_parse('2006-01-02', '2021-02-30')");
    err("time_parse('2006-01-02', '2021-02-03x')");
  });
  it('RFC 3339 arithmetic and comparisons', () => {
    expect(jp("time_add('2021-01-01T00:00:00Z', '1h30m')")).toBe('2021-01-01T01:30:00Z');
    expect(jp("time_utc('2021-01-01T02:00:00+02:00')")).toBe('2021-01-01T00:00:00Z');
    expect(jp("time_diff('2021-01-01T00:00:00Z', '2021-01-01T01:00:00.5Z')")).toBe('1h0m0.5s');
    expect(jp("time_before('2021-01-01T00:00:00Z', '2021-01-01T00:00:01Z')")).toBe(true);
    expect(jp("time_after('2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z')")).toBe(false);
    expect(jp("time_between('2021-01-02T00:00:00Z', '2021-01-01T00:00:00Z', '2021-01-03T00:00:00Z')")).toBe(true);
    expect(jp("time_between('2021-01-01T00:00:00Z', '2021-01-01T00:00:00Z', '2021-01-03T00:00:00Z')")).toBe(false);
    expect(jp("time_truncate('2021-01-01T10:37:12Z', '1h')")).toBe('2021-01-01T10:00:00Z');
    expect(jp("time_truncate('2021-01-06T10:00:00Z', '168h')")).toBe('2021-01-04T00:00:00Z');
    expect(jp("time_to_cron('2021-01-02T03:04:05Z')")).toBe('4 3 2 1 6');
    expect(jp("time_since('', '2021-01-01T00:00:00Z', '2021-01-01T00:01:00Z')")).toBe('1m0s');
    expect(jp("time_since('2006-01-02', '2021-01-01', '2021-01-02')")).toBe('24h0m0s');
    err("time_add('2021-01-01T00:00:00Z', 'soon')");
    err("time_utc('yesterday')");
  });
  it('time_now / time_now_utc are RFC 3339', () => {
    expect(jp('time_now_utc()')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(jp('time_now()')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  });
});

describe('semver_compare (blang ranges)', () => {
  it.each([
    ['1.2.3', '>=1.2.0 <2.0.0', true],
    ['2.0.0', '>=1.2.0 <2.0.0', false],
    ['1.2.3', '!1.2.3', false],
    ['1.2.4', '!=1.2.3', true],
    ['1.2.3', '1.2.3', true],
    ['1.2.3', '<1.0.0 || >1.2.0', true],
    ['1.2.3', '1.2.x', true],
    ['1.3.0', '1.2.x', false],
    ['1.3.0', '>1.2.x', true],
    ['1.0.0-alpha', '<1.0.0', true],
    ['1.0.0-alpha', '>=0.9.0', true],
    ['1.2.3', '> 1.0.0', true],
  ])('%s in %s -> %s', (v, r, want) => {
    expect(jp(`semver_compare('${v}', '${r}')`)).toBe(want);
  });
  it('invalid versions and ranges are errors', () => {
    err("semver_compare('1.2', '>1.0.0')");
    err("semver_compare('v1.2.3', '>1.0.0')");
    err("semver_compare('1.2.3', '>>1.0.0')");
  });
});

describe('Kyverno data functions', () => {
  it('parse_json / parse_yaml', () => {
    expect(jp("parse_json('[1, {\"a\": null}]')")).toEqual([1, { a: null }]);
    expect(jp('parse_yaml(s)', { s: 'a: 1\nb: [x, y]\nd: 2024-01-01\n' })).toEqual({ a: 1, b: ['x', 'y'], d: '2024-01-01' });
    err("parse_yaml('a: [')");
  });
  it('items needs 3 arguments; objects sorted by key, arrays by index', () => {
    expect(jp("items(`{\"b\":1,\"a\":2}`, 'k', 'v')")).toEqual([{ k: 'a', v: 2 }, { k: 'b', v: 1 }]);
    expect(jp("items(`[\"x\"]`, 'i', 'e')")).toEqual([{ i: 0, e: 'x' }]);
    err('items(`{"a":1}`)');
  });
  it('lookup', () => {
    expect(jp("lookup(`{\"a\":1}`, 'a')")).toBe(1);
    expect(jp("lookup(`{\"a\":1}`, 'b')")).toBeNull();
    expect(jp('lookup(`[1,2]`, `1`)')).toBe(2);
    expect(jp('lookup(`[1,2]`, `5`)')).toBeNull();
    err('lookup(`[1,2]`, `0.5`)');
    err("lookup(`[1,2]`, 'a')");
  });
  it('label_match, object_from_lists, to_boolean', () => {
    expect(jp('label_match(`{"app":"a"}`, `{"app":"a","x":"y"}`)')).toBe(true);
    expect(jp('label_match(`{"app":"a"}`, `{"app":"b"}`)')).toBe(false);
    expect(jp('label_match(`{}`, `{}`)')).toBe(true);
    expect(jp("object_from_lists(['a', 'b'], `[1]`)")).toEqual({ a: 1, b: null });
    const proto = jp("object_from_lists(['__proto__'], `[1]`)") as Record<string, unknown>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(jp("to_boolean('TRUE')")).toBe(true);
    err("to_boolean('yes')");
  });
  it('random generates a matching string', () => {
    const s = jp("random('[a-z]{6}-[0-9]{2}')") as string;
    expect(s).toMatch(/^[a-z]{6}-[0-9]{2}$/);
  });
});

describe('x509_decode', () => {
  it('decodes a certificate; CSRs are refused', async (ctx) => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'x509-'));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path.join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    let pem: string;
    try {
      execFileSync('openssl', ['req', '-x509', '-key', path.join(dir, 'key.pem'), '-out', path.join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=example.com/O=Acme', '-addext', 'subjectAltName=DNS:example.com'], { stdio: 'ignore' });
      pem = readFileSync(path.join(dir, 'c.pem'), 'utf8');
    } catch {
      ctx.skip('openssl not available to make the certificate');
      return;
    }
    const cert = new X509Certificate(pem);
    const out = jmespath.search('x509_decode(@)', pem) as Record<string, unknown>;
    expect(out).toMatchObject({ Subject: { CommonName: 'example.com', Organization: ['Acme'] }, DNSNames: ['example.com'], PublicKeyAlgorithm: 1 });
    expect(out.SerialNumber).toBe(BigInt(`0x${cert.serialNumber}`).toString());
    expect(out.NotAfter).toMatch(/Z$/);
    err('x509_decode(@)', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----');
    err("x509_decode('junk')");
  });
});
