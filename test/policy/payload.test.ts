import { describe, expect, it } from 'vitest';
import { parseBindings, parsePayload, preprocess, toResources } from '../../src/policy/index.js';

describe('payloads', () => {
  it('a YAML stream: one document gives it, several give an array', () => {
    expect(parsePayload('a: 1\n', 'p.yaml')).toEqual({ a: 1 });
    expect(parsePayload('a: 1\n---\nb: 2\n---\n', 'p.yaml')).toEqual([{ a: 1 }, { b: 2 }]);
  });
  it('.json is parsed as JSON', () => {
    expect(parsePayload('[1, 2]', 'p.json')).toEqual([1, 2]);
    expect(() => parsePayload('{a: 1}', 'p.json')).toThrow(/p\.json: invalid JSON/);
  });
  it('YAML keeps JSON types (no timestamps) and bounds alias expansion', () => {
    expect(parsePayload('d: 2024-01-01\n', 'p.yaml')).toEqual({ d: '2024-01-01' });
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    expect(() => parsePayload(bomb.join('\n'), 'bomb.yaml')).toThrow(/more than/);
  });
  it('invalid YAML is a POLICY_PAYLOAD_ERROR naming the file', () => {
    expect(() => parsePayload('a: [', 'p.yaml')).toThrow(expect.objectContaining({ code: 'POLICY_PAYLOAD_ERROR' }));
  });
  it('pre-processors apply in order; null is an error', () => {
    const payload = { planned_values: { root_module: { resources: [{ type: 'a' }, { type: 'b' }] } } };
    expect(preprocess(payload, ['planned_values', 'root_module.resources'])).toEqual([{ type: 'a' }, { type: 'b' }]);
    expect(() => preprocess(payload, ['nope'])).toThrow(/returned null/);
    expect(() => preprocess(payload, ['a['])).toThrow(/pre-processor/);
  });
  it('resources: an array gives its elements, anything else is one resource; null is an error', () => {
    expect(toResources([1, 2])).toEqual([1, 2]);
    expect(toResources({ a: 1 })).toEqual([{ a: 1 }]);
    expect(() => toResources(null)).toThrow();
  });
  it('bindings must be a mapping', () => {
    expect(parseBindings('foo: bar\n', 'b.yaml')).toEqual({ foo: 'bar' });
    expect(() => parseBindings('- 1\n', 'b.yaml')).toThrow(expect.objectContaining({ code: 'POLICY_BINDINGS_INVALID' }));
  });
});
