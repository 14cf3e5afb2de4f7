import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonOrUndefined } from '../../src/audit/canonical-json.js';
import { GENESIS_HASH, sealRecordLine, type AuditEvent } from '../../src/audit/record.js';

/** JSON.rawJSON (Node 21+; not yet in TypeScript's lib). */
const rawJSON = (text: string): unknown => (JSON as unknown as { rawJSON: (t: string) => unknown }).rawJSON(text);

/** The definition, written the plain way: JSON's view of the value, then keys sorted at every level. */
function reference(value: unknown): string {
  const sorted = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map(sorted).join(',')}]`;
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${sorted(x)}`).join(',')}}`;
  };
  return sorted(JSON.parse(JSON.stringify(value)));
}

/** What the log stored before the line was built in two halves: every member canonical, sorted, "hash" among them. */
function referenceLine(event: AuditEvent, seq: number, prevHash: string, time: Date): string {
  const plain = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  const unsealed: Record<string, unknown> = { ...plain, v: 1, seq, time: time.toISOString(), clock: 'system', mono: 0, prevHash };
  delete unsealed.hash;
  const hash = createHash('sha256').update(reference(unsealed)).digest('hex');
  return `${reference({ ...unsealed, hash })}\n`;
}

// Keys that test the orderings insertion cannot give (integer-like, "__proto__") and the ones it can.
const key = fc.oneof(fc.string(), fc.constantFrom('0', '1', '10', '9', '01', '4294967295', '-1', '__proto__', 'hash', 'Hash', 'a', 'B', '', 'ü', '😀'));
const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.date({ noInvalidDate: true }), fc.constant(() => 1));
const tree = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 6, noNullPrototype: false }),
})).value;

describe('canonicalJson', () => {
  it('is JSON with its keys sorted at every level, as the plain definition gives it', () => {
    fc.assert(
      fc.property(tree, (value) => {
        if (JSON.stringify(value) === undefined) expect(canonicalJsonOrUndefined(value)).toBeUndefined();
        else expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('applies toJSON once, as JSON.stringify does (a Buffer, an object whose toJSON returns an object)', () => {
    const odd = { toJSON: () => ({ z: 1, a: { toJSON: () => 'inner' }, toJSON: 'not called again' }) };
    for (const value of [Buffer.from('hi'), { b: Buffer.from([1, 2]), a: new Date(0) }, odd, [odd]]) expect(canonicalJson(value)).toBe(reference(value));
  });

  it('sees what JSON.stringify sees in values that are not plain: raw JSON text, boxed primitives, class instances, toJSON(key)', () => {
    class Point {
      constructor(
        readonly y: number,
        readonly x: number,
      ) {}
    }
    const keyed = { toJSON: (key: string) => `key=${key}` };
    const values: unknown[] = [
      { n: rawJSON('1.0'), m: [rawJSON('2e0')] },
      { b: Object.assign(new Number(3), { z: 1, y: 2 }), s: new String('ab'), t: new Boolean(false) },
      { p: new Point(2, 1), m: new Map([['a', 1]]) },
      { z: keyed, a: [keyed], k: { inner: keyed } },
    ];
    for (const value of values) expect(canonicalJson(value)).toBe(reference(value));
  });

  it('keeps a "__proto__" key as a member', () => {
    const value = JSON.parse('{"z":1,"__proto__":{"x":2}}') as unknown;
    expect(canonicalJson(value)).toBe('{"__proto__":{"x":2},"z":1}');
  });

  it('throws for what JSON cannot print at all', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});

describe('sealRecordLine', () => {
  it('takes an event with a toJSON of its own as that prints it', () => {
    const event = { type: 'decision', secret: 'not stored', toJSON: () => ({ type: 'decision', z: 1, a: rawJSON('1.50') }) } as unknown as AuditEvent;
    const time = new Date('2026-11-22T07:00:00.000Z');
    const { line } = sealRecordLine(event, 7, GENESIS_HASH, time);
    expect(line).toBe(referenceLine(event, 7, GENESIS_HASH, time));
    expect(line).not.toContain('not stored');
  });


  it('stores the line the plain definition gives, with the record as its parse', () => {
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 8 }), fc.integer({ min: 1, max: 1e9 }), (fields, seq) => {
        const event = { ...fields, type: 'decision' } as AuditEvent;
        const time = new Date('2026-11-22T07:00:00.000Z');
        const prev = 'ab'.repeat(32);
        const { record, line } = sealRecordLine(event, seq, prev, time);
        expect(line).toBe(referenceLine(event, seq, prev, time));
        expect(record).toEqual(JSON.parse(line));
      }),
      { numRuns: 1000 },
    );
  });
});
