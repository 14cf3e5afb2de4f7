import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SCOPES, type SealTarget } from '../../src/secrets/format.js';
import { scopeLabel, scopeLabelHash } from '../../src/secrets/scope-label.js';

/** docs/sealing.md §3, written out with Buffer.concat. */
function reference(version: number, keyId: Uint8Array, t: SealTarget): Buffer {
  const lp = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  const namespace = t.scope === 'cluster-wide' ? '' : t.namespace;
  const name = t.scope === 'strict' ? t.name : '';
  return Buffer.concat([Buffer.from('syncgate.dev/sealed-value'), Buffer.from([0, version]), keyId, lp(t.scope), lp(namespace), lp(name), lp(t.type), lp(t.dataKey)]);
}

describe('scope label', () => {
  test('matches the test vector in docs/sealing.md', () => {
    const keyId = Buffer.from('1a92f23852dc908d', 'hex');
    const target: SealTarget = { scope: 'strict', namespace: 'payments', name: 'db', type: 'Opaque', dataKey: 'password' };
    expect(scopeLabel(1, keyId, target).toString('hex')).toBe(
      '73796e63676174652e6465762f7365616c65642d76616c756500011a92f23852dc908d0006737472696374' + '00087061796d656e74730002646200064f7061717565000870617373776f7264',
    );
    expect(scopeLabelHash(1, keyId, target).toString('hex')).toBe('18c659ac210a479dbee12db612e7027ab4e2d45b14732ed1a9a808220e291d0c');
  });

  test('equals the documented concatenation for any fields, including multi-byte UTF-8', () => {
    // 1- to 4-byte UTF-8 characters (fc's full-unicode strings take ~1 s to set up)
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '-', '.', '\u0000', 'é', '€', '😀') });
    fc.assert(
      fc.property(fc.constantFrom(...SCOPES), text, text, text, text, fc.uint8Array({ minLength: 8, maxLength: 8 }), (scope, namespace, name, type, dataKey, keyId) => {
        const target: SealTarget = { scope, namespace, name, type, dataKey };
        const expected = reference(1, keyId, target);
        return scopeLabel(1, keyId, target).equals(expected) && scopeLabelHash(1, keyId, target).equals(createHash('sha256').update(expected).digest());
      }),
      { numRuns: 200 },
    );
  });

  test('a field longer than 65535 bytes is refused', () => {
    const target: SealTarget = { scope: 'strict', namespace: 'a', name: 'b', type: 'Opaque', dataKey: 'é'.repeat(40000) };
    expect(() => scopeLabel(1, new Uint8Array(8), target)).toThrow(RangeError);
  });
});
