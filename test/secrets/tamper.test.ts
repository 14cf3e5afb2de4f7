import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SealError, SCOPES, SealingKeyring, generateSealingKey, sealSecret, sealValue, unsealSealedSecret, type SealedSecret, type Scope } from '../../src/secrets/index.js';
import { isCanonicalX25519 } from '../../src/secrets/envelope.js';
import { secretManifest, thrown } from './helpers.js';

const key = generateSealingKey(new Date('2025-01-01T00:00:00Z'));
const ring = new SealingKeyring([key]);

function sealed(scope: Scope = 'strict', overrides: Record<string, unknown> = {}): SealedSecret {
  return sealSecret(secretManifest({ type: 'Opaque', ...overrides }), key, { scope });
}

function code(s: unknown, options: { namespace?: string } = {}): string | undefined {
  const err = thrown(() => unsealSealedSecret(s, ring, options));
  expect(err).toBeInstanceOf(SealError);
  return err.code;
}

function editEnvelope(envelope: string, edit: (bytes: Buffer) => Buffer): string {
  return edit(Buffer.from(envelope, 'base64')).toString('base64');
}

describe('moving a value', () => {
  test('to another data key of the same object fails, in every scope', () => {
    for (const scope of SCOPES) {
      const s = sealed(scope);
      s.spec.encryptedData.username = s.spec.encryptedData.password!;
      expect(code(s), scope).toBe('SEAL_SCOPE_MISMATCH');
    }
  });

  test('to another object (name) fails for strict; namespace-wide and cluster-wide allow renames', () => {
    const s = sealed('strict');
    s.metadata.name = 'other';
    expect(code(s)).toBe('SEAL_SCOPE_MISMATCH');
    for (const scope of ['namespace-wide', 'cluster-wide'] as const) {
      const t = sealed(scope);
      t.metadata.name = 'renamed';
      expect(unsealSealedSecret(t, ring).metadata.name).toBe('renamed');
    }
  });

  test('into another object that has the same data key fails for strict', () => {
    const victim = sealed('strict');
    const attacker = sealSecret(secretManifest({}, { name: 'attacker' }), key);
    attacker.spec.encryptedData.password = victim.spec.encryptedData.password!;
    const err = thrown(() => unsealSealedSecret(attacker, ring));
    expect(err.code).toBe('SEAL_SCOPE_MISMATCH');
    expect(err.message).toContain('payments/attacker');
    expect(err.message).toContain('"password"');
  });

  test('to another namespace fails for strict and namespace-wide; cluster-wide may move', () => {
    for (const scope of ['strict', 'namespace-wide'] as const) {
      const s = sealed(scope);
      s.metadata.namespace = 'elsewhere';
      expect(code(s), scope).toBe('SEAL_SCOPE_MISMATCH');
    }
    const c = sealed('cluster-wide');
    c.metadata.namespace = 'elsewhere';
    expect(unsealSealedSecret(c, ring).metadata.namespace).toBe('elsewhere');
  });

  test('changing spec.scope fails, and the error says which scope it was sealed with', () => {
    for (const from of SCOPES) {
      for (const to of SCOPES) {
        if (from === to) continue;
        const s = sealed(from);
        s.spec.scope = to;
        const err = thrown(() => unsealSealedSecret(s, ring));
        expect(err.code).toBe('SEAL_SCOPE_MISMATCH');
        expect(err.message).toContain(`sealed with scope ${from} but the SealedSecret declares scope ${to}`);
      }
    }
  });

  test('deleting spec.scope of a namespace-wide object (default strict) fails', () => {
    const s = sealed('namespace-wide');
    delete s.spec.scope;
    expect(code(s)).toBe('SEAL_SCOPE_MISMATCH');
  });

  test('changing the template type fails; labels, annotations and immutable may change', () => {
    const s = sealed('cluster-wide');
    s.spec.template!.type = 'kubernetes.io/service-account-token';
    expect(code(s)).toBe('SEAL_SCOPE_MISMATCH');
    const t = sealed('strict');
    delete t.spec.template!.type; // absent means Opaque: same as sealed
    t.spec.template!.metadata = { labels: { new: 'label' }, annotations: { a: 'b' } };
    t.spec.template!.immutable = true;
    expect(unsealSealedSecret(t, ring).metadata.labels).toEqual({ new: 'label' });
  });
});

describe('damaged envelopes', () => {
  const pw = (s: SealedSecret): string => s.spec.encryptedData.password!;

  test('truncated at any length fails without opening', () => {
    const s = sealed();
    const bytes = Buffer.from(pw(s), 'base64');
    for (const len of [0, 1, 9, 40, 64, 80, 112]) {
      const t = structuredClone(s);
      t.spec.encryptedData.password = bytes.subarray(0, len).toString('base64');
      expect(code(t), `len ${len}`).toBe('SEAL_TRUNCATED');
    }
    const cut = structuredClone(s);
    cut.spec.encryptedData.password = bytes.subarray(0, bytes.length - 1).toString('base64');
    expect(code(cut)).toBe('SEAL_TAMPERED');
    const badB64 = structuredClone(s);
    badB64.spec.encryptedData.password = pw(s).slice(0, -3);
    expect(code(badB64)).toBe('SEAL_TRUNCATED');
  });

  test('a flipped byte anywhere is detected, with the code of the part it hit', () => {
    const s = sealed();
    const len = Buffer.from(pw(s), 'base64').length;
    for (let i = 0; i < len; i++) {
      const t = structuredClone(s);
      t.spec.encryptedData.password = editEnvelope(pw(s), (b) => {
        b[i]! ^= 0x01;
        return b;
      });
      const expected = i === 0 ? 'SEAL_UNSUPPORTED_VERSION' : i < 9 ? 'SEAL_UNKNOWN_KEY_ID' : 'SEAL_TAMPERED';
      expect(code(t), `byte ${i}`).toBe(expected);
    }
  });

  test('an unknown key id names the id', () => {
    const other = generateSealingKey();
    const s = sealed();
    s.spec.encryptedData.password = sealValue('x', other, { scope: 'strict', namespace: 'payments', name: 'db-credentials', dataKey: 'password' });
    const err = thrown(() => unsealSealedSecret(s, ring));
    expect(err.code).toBe('SEAL_UNKNOWN_KEY_ID');
    expect(err.message).toContain(other.keyId);
  });

  test('a key id rewritten to a known key fails authentication', () => {
    const second = generateSealingKey(new Date('2026-01-01T00:00:00Z'));
    const both = new SealingKeyring([key, second]);
    const s = sealed();
    s.spec.encryptedData.password = editEnvelope(pw(s), (b) => {
      Buffer.from(second.keyIdBytes).copy(b, 1);
      return b;
    });
    expect(thrown(() => unsealSealedSecret(s, both)).code).toBe('SEAL_TAMPERED');
  });

  test('a low-order ephemeral key is tampering, not a crash', () => {
    const s = sealed();
    s.spec.encryptedData.password = editEnvelope(pw(s), (b) => {
      b.fill(0, 9, 41);
      return b;
    });
    expect(code(s)).toBe('SEAL_TAMPERED');
  });

  test('an unknown version byte is refused', () => {
    const s = sealed();
    s.spec.encryptedData.password = editEnvelope(pw(s), (b) => {
      b[0] = 2;
      return b;
    });
    expect(code(s)).toBe('SEAL_UNSUPPORTED_VERSION');
  });

  test('an oversized envelope is refused before decoding', () => {
    const s = sealed();
    s.spec.encryptedData.password = 'A'.repeat(2 * 1024 * 1024);
    expect(code(s)).toBe('SEAL_VALUE_TOO_LARGE');
  });
});

describe('properties', () => {
  const scopeArb = fc.constantFrom(...SCOPES);
  const dataKeyArb = fc.stringMatching(/^[-._a-zA-Z0-9]{1,20}$/).filter((k) => k !== '__proto__');

  test('the data key __proto__ is refused, not assigned as a prototype', () => {
    expect(() => sealSecret(secretManifest({ data: JSON.parse('{"__proto__": "eA=="}') as Record<string, string>, stringData: undefined }), key, { scope: 'strict' })).toThrow(
      /__proto__ is not supported/,
    );
  });

  test('the canonical-key check is exactly u < 2^255 - 19', () => {
    const p = (1n << 255n) - 19n;
    const below = (u: Uint8Array) => {
      let v = 0n;
      for (let i = u.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(u[i]!);
      return v < p;
    };
    const le = (v: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
    for (const v of [0n, 1n, p - 2n, p - 1n, p, p + 1n, (1n << 255n) - 1n, 1n << 255n, (1n << 256n) - 1n, p - 256n, p + 256n, (1n << 254n) + 5n]) {
      expect(isCanonicalX25519(le(v)), v.toString(16)).toBe(below(le(v)));
    }
    // bytes near p: top byte 0x7f, middle bytes mostly 0xff
    const nearP = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.array(fc.constantFrom(0xff, 0xff, 0xff, 0xfe, 0x00), { minLength: 30, maxLength: 30 }), fc.constantFrom(0x7e, 0x7f, 0x80, 0xff));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), nearP.map(([lo, mid, hi]) => Uint8Array.from([lo, ...mid, hi]))), (u) => isCanonicalX25519(u) === below(u)),
      { numRuns: 2000 },
    );
  });

  test('an envelope whose ephemeral key has its top bit flipped does not open', () => {
    const s = sealed();
    const b = Buffer.from(s.spec.encryptedData.password!, 'base64');
    b[40]! ^= 0x80; // last byte of the ephemeral X25519 key: X25519 itself ignores this bit
    const t = structuredClone(s);
    t.spec.encryptedData.password = b.toString('base64');
    expect(() => unsealSealedSecret(t, ring)).toThrow(expect.objectContaining({ code: 'SEAL_TAMPERED' }));
  });

  test('any bytes round-trip under any scope and data key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), scopeArb, dataKeyArb, (value, scope, dataKey) => {
        const s = sealSecret(secretManifest({ data: { [dataKey]: Buffer.from(value).toString('base64') }, stringData: undefined }), key, { scope });
        const out = unsealSealedSecret(s, ring);
        expect(Buffer.from(out.data[dataKey]!, 'base64')).toEqual(Buffer.from(value));
      }),
      { numRuns: 200 },
    );
  });

  test('any single-bit flip in an envelope is detected', () => {
    const s = sealed();
    const bytes = Buffer.from(s.spec.encryptedData.password!, 'base64');
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.nat({ max: 7 }), (index, bit) => {
        const t = structuredClone(s);
        const b = Buffer.from(bytes);
        b[index]! ^= 1 << bit;
        t.spec.encryptedData.password = b.toString('base64');
        expect(() => unsealSealedSecret(t, ring)).toThrow(SealError);
      }),
      { numRuns: 2_000 },
    );
  });

  test('a value opens only where it was sealed', () => {
    const place = fc.record({
      scope: scopeArb,
      namespace: fc.constantFrom('a', 'b'),
      name: fc.constantFrom('x', 'y'),
      dataKey: fc.constantFrom('k1', 'k2'),
      type: fc.constantFrom('Opaque', 'kubernetes.io/tls'),
    });
    fc.assert(
      fc.property(place, place, (from, to) => {
        const value = sealValue('v', key, from);
        const s = { apiVersion: 'syncgate.dev/v1alpha1', kind: 'SealedSecret', metadata: { name: to.name, namespace: to.namespace }, spec: { scope: to.scope, encryptedData: { [to.dataKey]: value }, template: { type: to.type } } };
        const bound = (p: typeof from) => [p.scope, p.dataKey, p.type, p.scope === 'cluster-wide' ? '' : p.namespace, p.scope === 'strict' ? p.name : ''].join('|');
        if (bound(from) === bound(to)) expect(Buffer.from(unsealSealedSecret(s, ring).data[to.dataKey]!, 'base64').toString()).toBe('v');
        else expect(thrown(() => unsealSealedSecret(s, ring)).code).toBe('SEAL_SCOPE_MISMATCH');
      }),
      { numRuns: 300 },
    );
  });
});
