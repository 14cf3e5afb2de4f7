import { SealError, SealErrorCode } from './errors.js';
import { envelopeKeyId, openEnvelope, sealEnvelope } from './envelope.js';
import { MAX_VALUE_BYTES, objectRef, type SealedSecret, type Secret } from './format.js';
import type { SealingKeyring } from './keyring.js';
import { parseSealedSecret, targetFor } from './sealed-secret-manifest.js';
import { buildSecret } from './secret-manifest.js';

export interface UnsealOptions {
  /** The namespace to use when the manifest has none (the reconciler's destination namespace). */
  namespace?: string;
}

/**
 * Opens every value of a SealedSecret for its own scope. All or nothing: the first value that
 * fails throws a SealError naming the object and data key, never a value.
 */
export function unsealSealedSecret(sealed: unknown, keyring: SealingKeyring, options: UnsealOptions = {}): Secret {
  const parsed = parseSealedSecret(sealed, options);
  const findKey = (id: string) => keyring.get(id);
  const values = new Map<string, Uint8Array>();
  try {
    let total = 0;
    for (const [dataKey, envelope] of parsed.encryptedData) {
      const value = openEnvelope(envelope, findKey, targetFor(parsed, dataKey));
      values.set(dataKey, value);
      total += value.length;
      if (total > MAX_VALUE_BYTES) {
        throw new SealError(SealErrorCode.ValueTooLarge, `SealedSecret ${objectRef(parsed.namespace, parsed.name)}: the values together exceed the Kubernetes limit of ${MAX_VALUE_BYTES} bytes`, {
          object: objectRef(parsed.namespace, parsed.name),
        });
      }
    }
    return buildSecret({ ...parsed, values });
  } finally {
    for (const value of values.values()) value.fill(0);
  }
}

export interface UnsealCheck {
  ok: boolean;
  /** Data keys that would not open, with the reason code only. */
  failures: { dataKey: string; code: string }[];
}

/**
 * Can the keyring open every value? Answers with codes only, never the plaintext and without
 * rendering anything from the template, so it is no decryption oracle (cf. Bitnami PR #2019).
 */
export function checkSealedSecret(sealed: unknown, keyring: SealingKeyring, options: UnsealOptions = {}): UnsealCheck {
  const parsed = parseSealedSecret(sealed, options);
  const failures: UnsealCheck['failures'] = [];
  for (const [dataKey, envelope] of parsed.encryptedData) {
    try {
      openEnvelope(envelope, (id) => keyring.get(id), targetFor(parsed, dataKey)).fill(0);
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      failures.push({ dataKey, code: err.code });
    }
  }
  return { ok: failures.length === 0, failures };
}

/**
 * Re-encrypts values to the keyring's newest key. Values already sealed to it are left as they are,
 * and every other field is kept, so the diff shows only what changed.
 */
export function reseal(sealed: unknown, keyring: SealingKeyring, options: UnsealOptions = {}): SealedSecret {
  const parsed = parseSealedSecret(sealed, options);
  const active = keyring.active();
  const result = structuredClone(sealed) as SealedSecret;
  for (const [dataKey, envelope] of parsed.encryptedData) {
    const target = targetFor(parsed, dataKey);
    if (envelopeKeyId(envelope, target) === active.keyId) {
      openEnvelope(envelope, (id) => keyring.get(id), target).fill(0); // still prove it opens
      continue;
    }
    const value = openEnvelope(envelope, (id) => keyring.get(id), target);
    try {
      result.spec.encryptedData[dataKey] = sealEnvelope(value, active, target);
    } finally {
      value.fill(0);
    }
  }
  return result;
}

/** The key id each value is sealed to (no key needed): shows which keys an object still depends on. */
export function sealedKeyIds(sealed: unknown, options: UnsealOptions = {}): Record<string, string> {
  const parsed = parseSealedSecret(sealed, options);
  const out: Record<string, string> = {};
  for (const [dataKey, envelope] of parsed.encryptedData) out[dataKey] = envelopeKeyId(envelope, targetFor(parsed, dataKey));
  return out;
}
