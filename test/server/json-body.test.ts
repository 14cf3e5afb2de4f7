import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EscapedYaml } from '../../src/gate/escaped-yaml.js';
import { ManifestCache } from '../../src/gate/manifest-cache.js';
import { parseManifests } from '../../src/gate/manifests.js';
import { parseGateBody } from '../../src/server/json-body.js';

/** parseGateBody's result with an escaped `manifests` decoded: what JSON.parse would have given. */
function decoded(body: string): unknown {
  const parsed = parseGateBody(Buffer.from(body));
  if (parsed && typeof parsed === 'object' && (parsed as { manifests?: unknown }).manifests instanceof EscapedYaml) {
    return { ...parsed, manifests: ((parsed as { manifests: EscapedYaml }).manifests).decode() };
  }
  return parsed;
}

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('parseGateBody', () => {
  it('leaves a manifests string escaped, and gives what JSON.parse gives once decoded', () => {
    const body = JSON.stringify({ revision: 'r', manifests: 'a: "1"\n---\nb: \\2\n', application: { name: 'x' } }, null, 2);
    const parsed = parseGateBody(Buffer.from(body)) as Record<string, unknown>;
    expect(parsed.manifests).toBeInstanceOf(EscapedYaml);
    expect(decoded(body)).toEqual(JSON.parse(body));
  });

  it('agrees with JSON.parse on generated bodies', () => {
    const text = fc.string({ unit: 'binary', maxLength: 200 });
    const value = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 4 }), fc.option(text, { nil: undefined }), fc.boolean(), fc.constantFrom(0, 2, '\t'), (rest, manifests, last, indent) => {
        const obj: Record<string, unknown> = last ? { ...rest } : {};
        if (manifests !== undefined) obj.manifests = manifests;
        Object.assign(obj, rest);
        const body = JSON.stringify(obj, null, indent);
        expect(decoded(body)).toEqual(JSON.parse(body));
      }),
      { numRuns: 500 },
    );
  });

  it('parses whole what it does not expect: arrays, duplicate or escaped keys, a non-string manifests', () => {
    for (const body of ['[1, 2]', '{"manifests": "a", "manifests": "b"}', '{"manif\\u0065sts": "a"}', '{"manifests": [{"kind": "A"}]}', '{}', '  {"a": {"b": ["}", "\\""]}, "manifests": "x"}  ']) {
      expect(decoded(body)).toEqual(JSON.parse(body));
    }
  });

  it('ignores a leading UTF-8 byte order mark, as express.json did', () => {
    const body = JSON.stringify({ revision: 'r', manifests: 'a: 1\n---\nb: 2\n' });
    const parsed = parseGateBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)])) as { manifests: EscapedYaml };
    expect({ ...parsed, manifests: parsed.manifests.decode() }).toEqual(JSON.parse(body));
  });

  it('is strict like express.json: an empty body is {}, anything but an object or array is not JSON', () => {
    expect(parseGateBody(Buffer.from('  '))).toEqual({});
    for (const body of ['"manifests"', '12', 'null', '{"manifests": "a"', '{"manifests": "a"} x', '{"manifests": "a",}', '{"a": 1 "manifests": "b"}', '{"manifests": "a\u0001"', "{'manifests': 'a'}"]) {
      expect(code(() => parseGateBody(Buffer.from(body)))).toBe('REQUEST_NOT_JSON');
    }
  });

  it('finds a literal that is not valid JSON when its documents are decoded', () => {
    const limits = { manifests: 100, manifestNodes: 10_000, manifestDepth: 32 };
    for (const content of ['a: 1\u0001', 'a: \\x', 'a: 1\n']) {
      const body = Buffer.from(`{"manifests": "${content}"}`);
      expect(() => JSON.parse(body.toString())).toThrow();
      const parsed = parseGateBody(body) as { manifests: EscapedYaml };
      expect(code(() => parseManifests(parsed.manifests, limits))).toBe('REQUEST_NOT_JSON');
      expect(code(() => parseManifests(parsed.manifests, limits, new ManifestCache(1 << 20)))).toBe('REQUEST_NOT_JSON');
    }
  });
});
