import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { EscapedYaml } from '../../src/gate/escaped-yaml.js';
import { ManifestCache, PolicyResultCache, SEEN_ONCE } from '../../src/gate/manifest-cache.js';
import { parseManifests, splitYamlDocuments } from '../../src/gate/manifests.js';
import { evaluatePolicies, type PolicyStageOptions } from '../../src/gate/policy-stage.js';
import { clockPolicy, loadPolicySet, policyDir } from '../helpers/policies.js';

const limits = { manifests: 100, manifestNodes: 10_000, manifestDepth: 32 };

/** What parseManifests gives: the manifests, or the error's code, message and location. */
function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (err) {
    const e = err as { code?: string; message?: string; location?: unknown };
    return { code: e.code, message: e.message, location: e.location };
  }
}

/** `text` as the request body carries it: still JSON-escaped inside a string literal. */
function escaped(text: string): EscapedYaml {
  const body = Buffer.from(JSON.stringify({ manifests: text }));
  return new EscapedYaml(body, '{"manifests":"'.length, body.length - 2);
}

/** Parsed through a cache (twice: a miss, then a hit), as text or still escaped, must equal parsed without one. */
function expectSameAsUncached(text: string, cache = new ManifestCache(1 << 20)): void {
  const plain = outcome(() => parseManifests(text, limits));
  expect(outcome(() => parseManifests(text, limits, cache))).toEqual(plain);
  expect(outcome(() => parseManifests(text, limits, cache))).toEqual(plain);
  expect(outcome(() => parseManifests(escaped(text), limits, cache))).toEqual(plain);
  expect(outcome(() => parseManifests(escaped(text), limits, cache))).toEqual(plain);
  expect(outcome(() => parseManifests(escaped(text), limits))).toEqual(plain);
}

const streams: Record<string, string> = {
  'documents with empty ones between': '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n',
  'no leading marker, no final newline': 'apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B',
  'markers with comments and blanks': 'apiVersion: v1\nkind: A\n--- # next\napiVersion: v1\nkind: B\n---   \napiVersion: v1\nkind: C\n---\t# tab\n# only a comment\n---\n',
  'CRLF line ends': 'apiVersion: v1\r\nkind: A\r\n---\r\napiVersion: v1\r\nkind: B\r\n',
  'a syntax error in the third document': 'apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\n---\napiVersion: v1\nkind: [unclosed\n',
  'duplicate keys': 'apiVersion: v1\nkind: A\nkind: B\n',
  'a scalar document': 'apiVersion: v1\nkind: A\n---\njust a string\n',
  'a manifest without kind': 'apiVersion: v1\nkind: A\n---\napiVersion: v1\nmetadata: {name: x}\n',
  'content on a marker line': 'apiVersion: v1\nkind: A\n--- {apiVersion: v1, kind: B}\n',
  'a block scalar on a marker line': '--- |\n  text\n',
  'a directive': '%YAML 1.2\n---\napiVersion: v1\nkind: A\n',
  'a document end marker': 'apiVersion: v1\nkind: A\n...\n---\napiVersion: v1\nkind: B\n',
  '---x is not a marker': 'apiVersion: v1\nkind: A\ndata:\n  k: |\n    ---x\n---x: 1\n',
  'a marker inside a block scalar at column 0': 'apiVersion: v1\nkind: A\ndata:\n  k: |\n    line\n---\napiVersion: v1\nkind: B\n',
  'a double-quoted scalar cut by a marker': 'apiVersion: v1\nkind: A\nmetadata: {name: "a\n---\nb"}\n',
  'anchors and aliases within a document': 'apiVersion: v1\nkind: A\nx: &a {k: v}\ny: *a\n---\napiVersion: v1\nkind: B\n',
  'an alias to an anchor of an earlier document': 'apiVersion: v1\nkind: A\nx: &a {k: v}\n---\napiVersion: v1\nkind: B\ny: *a\n',
  'too deep': `apiVersion: v1\nkind: A\nx: ${'['.repeat(40)}${']'.repeat(40)}\n`,
  'an empty stream': '',
  'comments only': '# nothing\n---\n# still nothing\n',
  'kept trailing newlines before a marker': 'apiVersion: v1\nkind: A\ndata:\n  k: |+\n    text\n\n---\napiVersion: v1\nkind: B\n',
  'backslashes and quotes': 'apiVersion: v1\nkind: A\ndata: {k: "a\\\\n---\\" \\\\"}\n---\napiVersion: v1\nkind: B\n',
  'a control character only \\u can escape': 'apiVersion: v1\nkind: A\ndata: {k: "\u0001"}\n---\napiVersion: v1\nkind: B\n',
  'a carriage return inside a marker comment': 'apiVersion: v1\nkind: A\n--- #c\rspec: {hostPID: true}\napiVersion: v1\nkind: Pod\n',
  'a carriage return right after a marker': 'apiVersion: v1\nkind: A\n---\rspec: {hostPID: true}\napiVersion: v1\nkind: Pod\n',
  'a byte order mark after a marker': 'apiVersion: v1\nkind: A\n---\n\uFEFFapiVersion: v1\nkind: B\n',
  'a directive behind a byte order mark, CR line breaks': '\uFEFF%TAG !e! tag:yaml.org,2002:\r---\rapiVersion: v1\rkind: A\rx: !e!str 5\r',
  'a directive after a CR line break': 'apiVersion: v1\nkind: A\r%TAG !e! tag:yaml.org,2002:\n---\napiVersion: v1\nkind: B\nx: !e!str 5\n',
  'non-ASCII text': 'apiVersion: v1\nkind: A\nmetadata: {name: café}\ndata: {k: 日本語}\n---\napiVersion: v1\nkind: B\n',
};

describe('splitYamlDocuments', () => {
  it('splits at lines that are `---` with nothing but blanks or a comment after', () => {
    expect(splitYamlDocuments('a: 1\n--- # c\nb: 2\n---\r\nc: 3\n---x: 4\n')).toEqual(['a: 1\n', 'b: 2\n', 'c: 3\n---x: 4\n']);
    expect(splitYamlDocuments('---\na: 1\n---')).toEqual(['', 'a: 1\n', '']);
  });

  it('declines a stream with content on a marker line', () => {
    expect(splitYamlDocuments('--- {a: 1}\n')).toBeUndefined();
    expect(splitYamlDocuments('a: 1\n--- |\n  x\n')).toBeUndefined();
  });
});

describe('parseManifests through the document cache', () => {
  for (const [name, text] of Object.entries(streams)) {
    it(`gives what the whole-stream parse gives: ${name}`, () => expectSameAsUncached(text));
  }

  it('never hides a line behind an escaped line break on a marker line (\\u000a is a newline once decoded)', () => {
    const content = 'apiVersion: v1\\nkind: A\\n--- #c\\u000aspec: {hostPID: true}\\napiVersion: v1\\nkind: Pod\\n';
    const body = Buffer.from(`{"manifests":"${content}"}`);
    const yaml = new EscapedYaml(body, '{"manifests":"'.length, body.length - 2);
    const plain = outcome(() => parseManifests(yaml.decode(), limits));
    expect(plain).toMatchObject({ ok: [{}, { object: { kind: 'Pod', spec: { hostPID: true } } }] });
    const cache = new ManifestCache(1 << 20);
    expect(outcome(() => parseManifests(yaml, limits, cache))).toEqual(plain);
    expect(outcome(() => parseManifests(yaml, limits, cache))).toEqual(plain);
  });

  it('gives text with a lone surrogate no key (UTF-8 would make it U+FFFD, the key of other text)', () => {
    const cache = new ManifestCache(1 << 20);
    const replacement = 'apiVersion: v1\nkind: ConfigMap\ndata: {k: "\uFFFD"}\n';
    parseManifests(replacement, limits, cache);
    expectSameAsUncached(replacement.replace('\uFFFD', '\uD800'), cache);
  });

  it('parses a document seen before only once, and shares its frozen object', () => {
    const cache = new ManifestCache(1 << 20);
    const a = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n';
    const b = 'apiVersion: v1\nkind: Service\nmetadata: {name: b}\n';
    // (each after a marker: the first document of a stream is keyed apart, see the next test)
    parseManifests(`---\n${a}---\n${b}`, limits, cache); // first sight: nothing kept yet
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 3, entries: 0 });
    const first = parseManifests(`---\n${a}---\n${b}`, limits, cache);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 6, entries: 3 });
    const second = parseManifests(`---\n${b}--- # reordered\n${a}`, limits, cache);
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 6, entries: 3 });
    expect(second[1]!.object).toBe(first[0]!.object);
    expect(second.map((m) => m.index)).toEqual([0, 1]);
    expect(Object.isFrozen((second[1]!.object.data as object))).toBe(true);
    expect(() => {
      (second[1]!.object.data as Record<string, string>).k = 'changed';
    }).toThrow(TypeError);
  });

  it('keys the first document of a stream apart from the same text after a marker (js-yaml reads the start of its input differently)', () => {
    const cache = new ManifestCache(1 << 20);
    const odd = '\t--- # c\n';
    expectSameAsUncached(`${odd}---\n${odd}`, cache);
    expectSameAsUncached(`---\n${odd}`, cache);
    expectSameAsUncached(odd, cache);
  });

  it('still charges cached documents to the request node budget, naming the document that crosses it', () => {
    const cache = new ManifestCache(1 << 20);
    const doc = `apiVersion: v1\nkind: ConfigMap\ndata:\n${Array.from({ length: 40 }, (_, i) => `  k${i}: v`).join('\n')}\n`;
    const small = { ...limits, manifestNodes: 100 };
    expect(parseManifests(doc, small, cache)).toHaveLength(1);
    expect(() => parseManifests(`${doc}---\n${doc}---\n${doc}`, small, cache)).toThrow(
      expect.objectContaining({ code: 'MANIFEST_TOO_LARGE', location: { path: 'manifests', document: 2 } }),
    );
    expect(() => parseManifests(`${doc}---\n${doc}---\n${doc}`, small)).toThrow(expect.objectContaining({ code: 'MANIFEST_TOO_LARGE', location: { path: 'manifests', document: 2 } }));
  });

  it('keeps nothing from a request that failed a check', () => {
    const cache = new ManifestCache(1 << 20);
    expect(() => parseManifests('apiVersion: v1\nkind: A\n---\napiVersion: v1\n', limits, cache)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
    expect(cache.stats().entries).toBe(0);
  });

  it('stays within its byte bound, the oldest unused out first', () => {
    const doc = (n: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${n}}\n`;
    const cache = new ManifestCache(doc(0).length * 3);
    const twice = (n: number) => [1, 2].forEach(() => parseManifests(doc(n), limits, cache)); // kept from the second sight
    for (const n of [0, 1, 2]) twice(n);
    parseManifests(doc(0), limits, cache); // 0 is now the most recently used
    twice(3); // 1 goes
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: doc(0).length * 3 });
    const before = cache.stats().hits;
    for (const n of [0, 2, 3]) parseManifests(doc(n), limits, cache);
    expect(cache.stats().hits).toBe(before + 3);
    parseManifests(doc(1), limits, cache);
    expect(cache.stats().hits).toBe(before + 3);
  });

  it('caches nothing with a bound of 0, and then parses as before', () => {
    const cache = new ManifestCache(0);
    expectSameAsUncached(streams['documents with empty ones between']!, cache);
    expect(cache.stats().entries).toBe(0);
  });

  it('agrees with the whole-stream parse on streams stitched from line-break, marker and directive fragments', () => {
    const fragment = fc.constantFrom(
      'apiVersion: v1\n', 'kind: A\n', 'metadata: {name: a}\n', 'spec: {hostPID: true}\n', 'data:\n', '  k: |+\n    t\n\n', '  j: "a\n', '---x: 1\n',
      '---\n', '--- # c\n', '--- #c\r', '---\r\n', '---\r', '--- \t\n', '...\n', '%TAG !e! tag:yaml.org,2002:\n', 'x: !e!str 5\n',
      '\r', '\r\n', '\n', '\uFEFF', '# comment\n', ' ', '\t', '"', '\\', '\u2028',
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 16 }), fc.boolean(), (parts, uEscapes) => {
        const text = parts.join('');
        expectSameAsUncached(text);
        if (uEscapes) {
          // the same text with its line breaks escaped as \u000a / \u000d, as a client may send them
          const literal = JSON.stringify(text).slice(1, -1).replaceAll('\\n', '\\u000a').replaceAll('\\r', '\\u000d');
          const body = Buffer.from(`{"manifests":"${literal}"}`);
          const yaml = new EscapedYaml(body, '{"manifests":"'.length, body.length - 2);
          expect(yaml.decode()).toBe(text);
          const plain = outcome(() => parseManifests(text, limits));
          const cache = new ManifestCache(1 << 20);
          expect(outcome(() => parseManifests(yaml, limits, cache))).toEqual(plain);
          expect(outcome(() => parseManifests(yaml, limits, cache))).toEqual(plain);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('agrees with the whole-stream parse on generated streams', () => {
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('---', '...', '--- x', '%x', 'a\n---\nb', '#'));
    const manifest = fc.record({
      apiVersion: fc.constant('v1'),
      kind: fc.constantFrom('ConfigMap', 'Secret'),
      metadata: fc.record({ name: fc.string({ minLength: 1 }) }),
      data: fc.dictionary(fc.string(), scalar, { maxKeys: 4 }),
    });
    const separator = fc.constantFrom('---\n', '--- # c\n', '---  \n', '---\n# comment\n---\n', '--- # c\r\n', '--- #c\rextra: 1\n', '---\r\n\uFEFF');
    const style = fc.record({ lineWidth: fc.constantFrom(-1, 20, 80), forceQuotes: fc.boolean(), quotingType: fc.constantFrom<"'" | '"'>("'", '"') });
    fc.assert(
      fc.property(fc.array(fc.tuple(manifest, separator), { maxLength: 5 }), style, (docs, opts) => {
        const text = docs.map(([m, sep], i) => (i === 0 ? '' : sep) + yaml.dump(m, opts)).join('');
        expectSameAsUncached(text);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseManifests through the document cache: a JSON array', () => {
  /** Through a cache (a miss, then a hit) must equal without one; `elements` as JSON text, parsed afresh each time. */
  function expectArraySameAsUncached(json: string, cache = new ManifestCache(1 << 20)): void {
    const plain = outcome(() => parseManifests(JSON.parse(json) as unknown[], limits));
    expect(outcome(() => parseManifests(JSON.parse(json) as unknown[], limits, cache))).toEqual(plain);
    expect(outcome(() => parseManifests(JSON.parse(json) as unknown[], limits, cache))).toEqual(plain);
  }

  const configMap = (name: string, data: unknown = { k: 'v' }) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

  it('shares the frozen object of an element seen before, keyed apart from YAML text', () => {
    const cache = new ManifestCache(1 << 20);
    parseManifests([configMap('a'), configMap('b')], limits, cache); // first sight
    const first = parseManifests([configMap('a'), configMap('b')], limits, cache);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 4, entries: 2 });
    const second = parseManifests([configMap('b'), configMap('a')], limits, cache);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 4, entries: 2 });
    expect(second[1]!.object).toBe(first[0]!.object);
    expect(second.map((m) => m.index)).toEqual([0, 1]);
    expect(Object.isFrozen(second[0]!.object.metadata)).toBe(true);
    // The same manifest as YAML text is another key: JSON text and YAML text are not compared.
    for (let i = 0; i < 2; i++) parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n', limits, cache);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 6, entries: 3 });
  });

  it('gives what the uncached parse gives, errors and their locations included', () => {
    const cases: unknown[][] = [
      [configMap('a'), configMap('b')],
      [configMap('a'), { apiVersion: 'v1' }],
      [configMap('a'), 'a string', configMap('c')],
      [configMap('a'), [configMap('nested')]],
      [configMap('a'), configMap('deep', JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`))],
      [configMap('a'), { ...configMap('b'), metadata: 'not a mapping' }],
      Array.from({ length: 101 }, (_, i) => configMap(`c${i}`)),
      [],
    ];
    for (const c of cases) expectArraySameAsUncached(JSON.stringify(c));
  });

  it('still charges cached elements to the request node budget, naming the element that crosses it', () => {
    const cache = new ManifestCache(1 << 20);
    const big = configMap('big', Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])));
    const small = { ...limits, manifestNodes: 100 };
    expect(parseManifests([big], small, cache)).toHaveLength(1);
    const error = expect.objectContaining({ code: 'MANIFEST_TOO_LARGE', location: { path: 'manifests', document: 2 } });
    expect(() => parseManifests([big, big, big], small, cache)).toThrow(error);
    expect(() => parseManifests([big, big, big], small)).toThrow(error);
  });

  it('keeps nothing from a request that failed a check, and freezes nothing of it', () => {
    const cache = new ManifestCache(1 << 20);
    const good = configMap('a');
    expect(() => parseManifests([good, { kind: 'NoApiVersion' }], limits, cache)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
    expect(cache.stats().entries).toBe(0);
    expect(Object.isFrozen(good)).toBe(false);
  });

  it('does not key elements whose JSON text would stand for another value (-0, 1e400) or that are not JSON data', () => {
    const cache = new ManifestCache(1 << 20);
    // JSON.parse gives -0 and Infinity; JSON.stringify writes them as 0 and null.
    for (const json of ['{"apiVersion":"v1","kind":"A","data":{"n":-0}}', '{"apiVersion":"v1","kind":"A","data":{"n":1e400}}']) {
      const [element] = parseManifests([JSON.parse(json)], limits, cache);
      expect(Object.isFrozen(element!.object)).toBe(false);
    }
    const notData = [{ apiVersion: 'v1', kind: 'A', data: { when: new Date(0) } }, { apiVersion: 'v1', kind: 'A', data: { u: undefined } }, { apiVersion: 'v1', kind: 'A', data: new Array<number>(2) }];
    for (const element of notData) parseManifests([element], limits, cache);
    expect(cache.stats().entries).toBe(0);
    // So an element written the same way as one of them is not given its object.
    const zero = parseManifests([JSON.parse('{"apiVersion":"v1","kind":"A","data":{"n":0}}')], limits, cache);
    expect(Object.is((zero[0]!.object.data as { n: number }).n, 0)).toBe(true);
    const nulled = parseManifests([JSON.parse('{"apiVersion":"v1","kind":"A","data":{"n":null}}')], limits, cache);
    expect((nulled[0]!.object.data as { n: unknown }).n).toBeNull();
    const negative = parseManifests([JSON.parse('{"apiVersion":"v1","kind":"A","data":{"n":-0}}')], limits, cache);
    expect(Object.is((negative[0]!.object.data as { n: number }).n, -0)).toBe(true);
  });

  it('caches nothing with a bound of 0', () => {
    const cache = new ManifestCache(0);
    expectArraySameAsUncached(JSON.stringify([configMap('a')]), cache);
    expect(cache.stats().entries).toBe(0);
  });

  it('agrees with the uncached parse on generated arrays', () => {
    const element = fc.oneof(
      { weight: 4, arbitrary: fc.record({ apiVersion: fc.constantFrom('v1', ''), kind: fc.constantFrom('ConfigMap', 'Pod'), metadata: fc.record({ name: fc.string() }), data: fc.jsonValue({ maxDepth: 4 }) }, { requiredKeys: ['kind'] }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    );
    const cache = new ManifestCache(1 << 20);
    fc.assert(
      fc.property(fc.array(element, { maxLength: 6 }), (elements) => {
        // Twice through one cache shared by every run: misses, then hits (and hits of earlier runs).
        expectArraySameAsUncached(JSON.stringify(elements), cache);
      }),
      { numRuns: 300 },
    );
  });
});

describe('policy results of a JSON array through the caches', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'syncgate-array-cache-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const load = loadPolicySet;
  const options = (now: Date): PolicyStageOptions => ({ modes: { defaultMode: 'enforce', overrides: {} }, bindings: {}, now });
  const pod = (name: string, privileged: boolean) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: { 'app.kubernetes.io/name': name } },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'c', image: 'registry.k8s.io/web:1.0', resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } }, securityContext: { privileged, allowPrivilegeEscalation: privileged, capabilities: { drop: ['ALL'] } } }],
    },
  });

  it('gives the evidence of the uncached stages, first time and from the cache, in any order', async () => {
    const set = await load([path.resolve('policies')]);
    const now = new Date('2026-11-22T00:00:00Z');
    const json = JSON.stringify([pod('web', false), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 's', namespace: 'shop' }, data: { k: 'v' } }, pod('root', true)]);
    const uncached = (text: string) => evaluatePolicies(set, parseManifests(JSON.parse(text) as unknown[], limits), options(now));
    const expected = uncached(json);
    expect(expected.evidence.failures.length).toBeGreaterThan(0);
    expect(expected.evidence.counts.pass).toBeGreaterThan(0);
    const manifests = new ManifestCache(1 << 20);
    const results = new PolicyResultCache();
    const cached = (text: string) => evaluatePolicies(set, parseManifests(JSON.parse(text) as unknown[], limits, manifests), options(now), results);
    expect(cached(json)).toEqual(expected);
    expect(cached(json)).toEqual(expected);
    expect(cached(json)).toEqual(expected);
    const reversed = JSON.stringify((JSON.parse(json) as unknown[]).reverse());
    expect(cached(reversed)).toEqual(uncached(reversed));
    expect(manifests.stats()).toMatchObject({ misses: 6, hits: 6 });
    expect(results.get(set, parseManifests(JSON.parse(json) as unknown[], limits, manifests)[2]!.object)).toBeDefined();
  });

  it('does not keep results of a rule that read the clock', async () => {
    const dir = policyDir(scratch, 'clock', clockPolicy);
    const set = await load([dir]);
    const manifests = new ManifestCache(1 << 20);
    const results = new PolicyResultCache();
    const input = () => [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }];
    const early = evaluatePolicies(set, parseManifests(input(), limits, manifests), options(new Date('2029-06-01T00:00:00Z')), results);
    expect(early.evidence.failures).toEqual([]);
    const object = parseManifests(input(), limits, manifests)[0]!.object;
    expect(Object.isFrozen(object)).toBe(true);
    expect(results.get(set, object)).toBeUndefined();
    const late = evaluatePolicies(set, parseManifests(input(), limits, manifests), options(new Date('2031-06-01T00:00:00Z')), results);
    expect(late.evidence.failures.map((f) => f.message)).toEqual([expect.stringContaining('too late')]);
  });
});

describe('renderings remembered by the body digest', () => {
  const stream = ['kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: a\n', 'kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: b\ndata:\n  x: "1"\n', 'kind: Secret\napiVersion: v1\nmetadata:\n  name: c\n'].join('---\n');

  it('a body seen before is not split again (nor its documents hashed), and gives the same objects', () => {
    const cache = new ManifestCache(1 << 20);
    const split = vi.spyOn(EscapedYaml.prototype, 'split');
    try {
      parseManifests(escaped(stream), limits, cache, 'sha256:one'); // first sight: remembered from the second on
      const first = parseManifests(escaped(stream), limits, cache, 'sha256:one');
      expect(split).toHaveBeenCalledTimes(2);
      const again = parseManifests(escaped(stream), limits, cache, 'sha256:one');
      expect(split).toHaveBeenCalledTimes(2);
      expect(again.map((m) => m.object)).toEqual(first.map((m) => m.object));
      again.forEach((m, i) => expect(m.object).toBe(first[i]!.object));
      parseManifests(escaped(stream), limits, cache, 'sha256:another');
      expect(split).toHaveBeenCalledTimes(3);
    } finally {
      split.mockRestore();
    }
  });

  it('documents that have left the cache since are decoded from the body again', () => {
    const cache = new ManifestCache(stream.length);
    const plain = parseManifests(stream, limits);
    for (let i = 0; i < 2; i++) parseManifests(escaped(stream), limits, cache, 'sha256:one');
    // other documents push the first ones out
    const other = Array.from({ length: 3 }, (_, i) => `kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: other-${i}\ndata:\n  pad: "${'x'.repeat(stream.length / 3)}"\n`).join('---\n');
    for (let i = 0; i < 2; i++) parseManifests(escaped(other), limits, cache, 'sha256:other');
    const misses = cache.stats().misses;
    expect(outcome(() => parseManifests(escaped(stream), limits, cache, 'sha256:one'))).toEqual({ ok: plain });
    expect(cache.stats().misses).toBeGreaterThan(misses);
  });

  it('the request limits apply to a remembered rendering as to any other', () => {
    const cache = new ManifestCache(1 << 20);
    for (let i = 0; i < 2; i++) parseManifests(escaped(stream), limits, cache, 'sha256:one');
    const body = escaped(stream);
    expect(cache.rendering('sha256:one', { bodyBytes: body.buffer.length, start: body.start, end: body.end })).toBeDefined();
    // the same digest offered with a body of another shape gives nothing
    expect(cache.rendering('sha256:one', { bodyBytes: body.buffer.length + 1, start: body.start, end: body.end + 1 })).toBeUndefined();
    expect(outcome(() => parseManifests(escaped(stream), { ...limits, manifests: 2 }, cache, 'sha256:one'))).toMatchObject({ code: 'MANIFEST_TOO_MANY' });
  });

  it('a body that does not parse is not remembered', () => {
    const cache = new ManifestCache(1 << 20);
    const bad = 'kind: ConfigMap\n---\nkey: [unclosed\n';
    for (let i = 0; i < 2; i++) expect(outcome(() => parseManifests(escaped(bad), limits, cache, 'sha256:bad'))).toMatchObject({ code: 'MANIFEST_PARSE_ERROR' });
    const body = escaped(bad);
    expect(cache.rendering('sha256:bad', { bodyBytes: body.buffer.length, start: body.start, end: body.end })).toBeUndefined();
  });
});

describe('ManifestCache eviction', () => {
  it('gives each entry used since its turn one more round, and evicts until within the bound', () => {
    const doc = (n: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${n}}\n`;
    const size = doc(0).length;
    const cache = new ManifestCache(size * 4);
    for (const n of [0, 1, 2, 3]) parseManifests(doc(n), limits, cache); // first sight
    for (const n of [0, 1, 2, 3]) parseManifests(doc(n), limits, cache); // kept
    for (const n of [0, 1, 2, 3]) parseManifests(doc(n), limits, cache); // all used
    parseManifests(doc(4), limits, cache);
    parseManifests(doc(4), limits, cache); // kept: every old one gets its second chance, then 0 (oldest again) goes
    expect(cache.stats()).toMatchObject({ entries: 4, bytes: size * 4 });
    const misses = cache.stats().misses;
    for (const n of [1, 2, 3, 4]) parseManifests(doc(n), limits, cache);
    expect(cache.stats().misses).toBe(misses);
    parseManifests(doc(0), limits, cache);
    expect(cache.stats().misses).toBe(misses + 1);
  });
});

describe('ManifestCache admission', () => {
  const doc = (n: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${n}}\n`;

  it('keeps a document from its second sight on, so one-off documents never push out others', () => {
    const cache = new ManifestCache(doc(0).length * 2);
    for (const n of [0, 1, 0, 1]) parseManifests(doc(n), limits, cache);
    expect(cache.stats()).toMatchObject({ entries: 2 });
    for (let n = 100; n < 200; n++) parseManifests(doc(n), limits, cache); // a flood of documents seen once
    const { hits } = cache.stats();
    for (const n of [0, 1]) parseManifests(doc(n), limits, cache);
    expect(cache.stats()).toMatchObject({ entries: 2, hits: hits + 2 });
    const object = parseManifests(doc(100), limits, cache)[0]!.object; // its second sight
    expect(Object.isFrozen(object)).toBe(true);
  });

  it('forgets first sights past its bound, oldest first', () => {
    const cache = new ManifestCache(1 << 24);
    parseManifests(doc(0), limits, cache);
    for (let n = 1; n <= SEEN_ONCE; n++) parseManifests(doc(n), limits, cache);
    parseManifests(doc(0), limits, cache); // its first sight was forgotten: a first sight again
    expect(cache.stats().entries).toBe(0);
    parseManifests(doc(SEEN_ONCE), limits, cache);
    expect(cache.stats().entries).toBe(1);
  });
});
