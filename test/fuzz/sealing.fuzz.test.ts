/**
 * Sealed envelopes and SealedSecret objects (syncgate and Bitnami formats) under generated input:
 * unseal, check and reseal only ever throw a coded SealError / InputError (SEAL_* or BITNAMI_*),
 * never open a value anywhere but where it was sealed, and never put a plaintext in a message.
 * test/secrets/tamper.test.ts already covers single-bit flips and scope moves; these go wider.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SyncgateError } from '../../src/errors.js';
import {
  SealingKeyring,
  checkSealedSecret,
  generateSealingKey,
  reseal,
  sealSecret,
  unsealSealedSecret,
  type SealingKey,
} from '../../src/secrets/index.js';
import { unsealBitnamiSealedSecret } from '../../src/secrets/bitnami.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';

const PLAINTEXT = 'fuzz-plaintext-9c1e7a-never-in-a-message';

/** Runs fn; a throw must be a coded sealing error whose message holds no plaintext. */
function sealCoded(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SyncgateError);
    const e = err as SyncgateError;
    expect(e.code).toMatch(/^(SEAL|BITNAMI)_[A-Z_]+$/);
    expect(e.message).not.toContain(PLAINTEXT);
    return undefined;
  }
}

describe('sealed secrets under generated input', () => {
  let key: SealingKey;
  let other: SealingKey;
  let ring: SealingKeyring;
  let good: ReturnType<typeof sealSecret>;
  let envelope: Buffer;

  beforeAll(() => {
    key = generateSealingKey(new Date('2026-01-01T00:00:00Z'));
    other = generateSealingKey(new Date('2026-02-01T00:00:00Z'));
    ring = new SealingKeyring();
    ring.add(key);
    good = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, stringData: { password: PLAINTEXT } }, key, { scope: 'strict' });
    envelope = Buffer.from(good.spec.encryptedData.password!, 'base64');
  });

  it('the untouched SealedSecret opens (so the properties below are meaningful)', () => {
    expect(Buffer.from(unsealSealedSecret(good, ring).data.password!, 'base64').toString()).toBe(PLAINTEXT);
  });

  it(
    'generated envelopes never open and fail with a SEAL_ code',
    () => {
      const header = envelope.subarray(0, 9); // version + key id: reaches the box
      const envelopes = fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('base64')),
        fc.uint8Array({ minLength: 0, maxLength: 200 }).map((a) => Buffer.concat([header, Buffer.from(a)]).toString('base64')),
        fc.nat(envelope.length - 1).map((n) => envelope.subarray(0, n).toString('base64')),
        fc.tuple(fc.nat(envelope.length - 1), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, b]) => {
          const out = Buffer.from(envelope);
          out.set(b.subarray(0, out.length - at), at);
          return out.equals(envelope) ? '' : out.toString('base64');
        }),
        fc.string({ maxLength: 120 }),
        fc.constantFrom('', '====', 'AQ', `${envelope.toString('base64')}\n`, ` ${envelope.toString('base64')}`, envelope.toString('base64url')),
      );
      fc.assert(
        fc.property(envelopes, (value) => {
          const s = structuredClone(good);
          s.spec.encryptedData.password = value;
          expect(sealCoded(() => unsealSealedSecret(s, ring))).toBeUndefined();
          const check = sealCoded(() => checkSealedSecret(s, ring)) as { ok: boolean } | undefined;
          if (check) expect(check.ok).toBe(false);
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'generated SealedSecret-shaped objects: unseal, check and reseal throw coded errors only',
    () => {
      const any = fc.jsonValue({ maxDepth: 3 });
      const objects = fc.oneof(
        any,
        fc.record(
          {
            apiVersion: fc.oneof(fc.constantFrom('syncgate.dev/v1alpha1', 'bitnami.com/v1alpha1', 'v1'), any),
            kind: fc.oneof(fc.constantFrom('SealedSecret', 'Secret'), any),
            metadata: fc.oneof(fc.record({ name: fc.oneof(fc.constantFrom('db', 'a'.repeat(300), 'Db', '../x', ''), any), namespace: fc.oneof(fc.constantFrom('shop', 'other', ''), any) }, { requiredKeys: [] }), any),
            spec: fc.oneof(
              fc.record(
                {
                  scope: fc.oneof(fc.constantFrom('strict', 'namespace-wide', 'cluster-wide', 'global'), any),
                  encryptedData: fc.oneof(fc.dictionary(fc.oneof(fc.constantFrom('password', '__proto__', 'constructor', '..', 'a/b'), fc.string({ maxLength: 20 })), fc.oneof(fc.constant(good.spec.encryptedData.password!), any), { maxKeys: 4 }), any),
                  template: fc.oneof(fc.record({ type: fc.oneof(fc.constantFrom('Opaque', 'kubernetes.io/tls'), any), data: any, metadata: any, immutable: any }, { requiredKeys: [] }), any),
                  data: any,
                },
                { requiredKeys: [] },
              ),
              any,
            ),
          },
          { requiredKeys: [] },
        ),
      );
      fc.assert(
        fc.property(objects, (obj) => {
          const opened = sealCoded(() => unsealSealedSecret(obj, ring, { namespace: 'shop' })) as { metadata: { name: string; namespace?: string }; data: Record<string, string> } | undefined;
          if (opened) {
            // Only the original value can open, and only at its own place.
            expect(opened.metadata).toMatchObject({ name: 'db', namespace: 'shop' });
            for (const v of Object.values(opened.data)) expect(Buffer.from(v, 'base64').toString()).toBe(PLAINTEXT);
          }
          sealCoded(() => checkSealedSecret(obj, ring, { namespace: 'shop' }));
          sealCoded(() => reseal(obj, ring, { namespace: 'shop' }));
          sealCoded(() => unsealBitnamiSealedSecret(obj, [generatedRsa.privateKey], { namespace: 'shop' }));
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'a value sealed to another key never opens with this keyring (SEAL_UNKNOWN_KEY_ID), whatever its place',
    () => {
      fc.assert(
        fc.property(fc.constantFrom('strict', 'namespace-wide', 'cluster-wide') as fc.Arbitrary<'strict'>, (scope) => {
          const s = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, stringData: { password: PLAINTEXT } }, other, { scope });
          try {
            unsealSealedSecret(s, ring);
            expect.unreachable('opened with the wrong key');
          } catch (err) {
            expect((err as SyncgateError).code).toBe('SEAL_UNKNOWN_KEY_ID');
          }
        }),
        { numRuns: Math.min(FUZZ_RUNS, 50) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

const generatedRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
