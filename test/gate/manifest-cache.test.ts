import fc from 'fast-check';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { EscapedYaml } from '../../src/gate/escaped-yaml.js';
import { ManifestCache } from '../../src/gate/manifest-cache.js';
import { parseManifests, splitYamlDocuments } from '../../src/gate/manifests.js';

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

  it('parses a document seen before only once, and shares its frozen object', () => {
    const cache = new ManifestCache(1 << 20);
    const a = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n';
    const b = 'apiVersion: v1\nkind: Service\nmetadata: {name: b}\n';
    const first = parseManifests(`${a}---\n${b}`, limits, cache);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 2, entries: 2 });
    const second = parseManifests(`${b}--- # reordered\n${a}`, limits, cache);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2, entries: 2 });
    expect(second[1]!.object).toBe(first[0]!.object);
    expect(second.map((m) => m.index)).toEqual([0, 1]);
    expect(Object.isFrozen((second[1]!.object.data as object))).toBe(true);
    expect(() => {
      (second[1]!.object.data as Record<string, string>).k = 'changed';
    }).toThrow(TypeError);
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

  it('stays within its byte bound, least recently used out first', () => {
    const doc = (n: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${n}}\n`;
    const cache = new ManifestCache(doc(0).length * 3);
    for (const n of [0, 1, 2]) parseManifests(doc(n), limits, cache);
    parseManifests(doc(0), limits, cache); // 0 is now the most recently used
    parseManifests(doc(3), limits, cache); // 1 goes
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

  it('agrees with the whole-stream parse on generated streams', () => {
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('---', '...', '--- x', '%x', 'a\n---\nb', '#'));
    const manifest = fc.record({
      apiVersion: fc.constant('v1'),
      kind: fc.constantFrom('ConfigMap', 'Secret'),
      metadata: fc.record({ name: fc.string({ minLength: 1 }) }),
      data: fc.dictionary(fc.string(), scalar, { maxKeys: 4 }),
    });
    const separator = fc.constantFrom('---\n', '--- # c\n', '---  \n', '---\n# comment\n---\n');
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
