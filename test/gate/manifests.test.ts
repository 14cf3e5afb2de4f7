import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../src/gate/manifests.js';

const limits = { manifests: 100, manifestNodes: 10_000, manifestDepth: 32 };

describe('parseManifests', () => {
  it('reads multi-document YAML, skipping empty documents', () => {
    const m = parseManifests('---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n', limits);
    expect(m.map((x) => [x.index, x.object.kind])).toEqual([
      [0, 'ConfigMap'],
      [1, 'Service'],
    ]);
  });

  it('reads a JSON array', () => {
    const m = parseManifests([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }], limits);
    expect(m[0]!.object.kind).toBe('Pod');
  });

  it('names the document of a YAML syntax error', () => {
    const text = 'apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\n---\napiVersion: v1\nkind: [unclosed\n';
    expect(() => parseManifests(text, limits)).toThrow(expect.objectContaining({ code: 'MANIFEST_PARSE_ERROR', location: expect.objectContaining({ document: 2 }) }));
  });

  it('rejects duplicate keys', () => {
    expect(() => parseManifests('apiVersion: v1\nkind: A\nkind: B\n', limits)).toThrow(expect.objectContaining({ code: 'MANIFEST_PARSE_ERROR' }));
  });

  it('names the document and field of a manifest without kind', () => {
    expect(() => parseManifests([{ apiVersion: 'v1', kind: 'A' }, { apiVersion: 'v1' }], limits)).toThrow(
      expect.objectContaining({ code: 'MANIFEST_INVALID', location: { path: 'kind', document: 1 } }),
    );
  });

  it('rejects scalars and arrays as manifests', () => {
    expect(() => parseManifests('just a string\n', limits)).toThrow(expect.objectContaining({ code: 'MANIFEST_NOT_OBJECT' }));
    expect(() => parseManifests([[1, 2]], limits)).toThrow(expect.objectContaining({ code: 'MANIFEST_NOT_OBJECT' }));
  });

  it('bounds the number of documents', () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ apiVersion: 'v1', kind: 'A', metadata: { name: String(i) } }));
    expect(() => parseManifests(many, limits)).toThrow(expect.objectContaining({ code: 'MANIFEST_TOO_MANY' }));
  });

  it('bounds a YAML alias bomb by counting aliases where they are used', () => {
    const lines = ['apiVersion: v1', 'kind: Bomb', 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    const names = 'abcdefghij';
    for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(10).fill(`*${names[i - 1]}`).join(',')}]`);
    expect(() => parseManifests(lines.join('\n') + '\n', limits)).toThrow(expect.objectContaining({ code: 'MANIFEST_TOO_LARGE' }));
  });

  it('bounds nesting depth', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect(() => parseManifests([{ apiVersion: 'v1', kind: 'Deep', spec: deep }], limits)).toThrow(
      expect.objectContaining({ code: 'MANIFEST_TOO_DEEP', location: expect.objectContaining({ document: 0 }) }),
    );
  });

  it('rejects a field that is neither string nor array', () => {
    expect(() => parseManifests({ apiVersion: 'v1' }, limits)).toThrow(expect.objectContaining({ code: 'MANIFEST_PARSE_ERROR' }));
  });
});
