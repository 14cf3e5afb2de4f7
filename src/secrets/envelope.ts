import { timingSafeEqual } from 'node:crypto';
import { cachedBoxKey } from './box-key-cache.js';
import { SealError, SealErrorCode } from './errors.js';
import { MAX_VALUE_BYTES, SCOPES, objectRef, type SealTarget } from './format.js';
import { KEY_ID_BYTES, type SealingKey, type SealingPublicKey } from './keys.js';
import {
  BOX_NONCE_BYTES,
  BOX_OVERHEAD_BYTES,
  X25519_KEY_BYTES,
  boxAfter,
  boxOpenAfter,
  boxSharedKey,
  generateX25519,
  randomNonce,
  rawPublicKey,
} from './nacl-box.js';
import { LABEL_HASH_BYTES, scopeLabelHash } from './scope-label.js';
import { isStrictBase64 } from './validate.js';

/**
 * One sealed value (docs/sealing.md §3):
 *   version(1) || keyId(8) || ephemeralPublicKey(32) || nonce(24) || box(labelHash(32) || value)
 */

export const ENVELOPE_VERSION = 1;
const HEADER_BYTES = 1 + KEY_ID_BYTES + X25519_KEY_BYTES + BOX_NONCE_BYTES;
export const MIN_ENVELOPE_BYTES = HEADER_BYTES + BOX_OVERHEAD_BYTES + LABEL_HASH_BYTES;
const MAX_ENVELOPE_BASE64_CHARS = Math.ceil((MIN_ENVELOPE_BYTES + MAX_VALUE_BYTES) / 3) * 4;

export interface Envelope {
  version: number;
  keyId: Uint8Array;
  ephemeralPublicKey: Uint8Array;
  nonce: Uint8Array;
  box: Uint8Array;
}

function where(target: SealTarget): string {
  return `SealedSecret ${objectRef(target.namespace, target.name)} data key "${target.dataKey}"`;
}

function fail(code: SealErrorCode, target: SealTarget, problem: string): SealError {
  return new SealError(code, `${where(target)}: ${problem}`, { object: objectRef(target.namespace, target.name), dataKey: target.dataKey });
}

export function sealEnvelope(value: Uint8Array, recipient: SealingPublicKey, target: SealTarget): string {
  if (value.length > MAX_VALUE_BYTES) throw fail(SealErrorCode.ValueTooLarge, target, `value is larger than ${MAX_VALUE_BYTES} bytes`);
  const ephemeral = generateX25519();
  const k = boxSharedKey(ephemeral.privateKey, recipient.publicKey);
  const nonce = randomNonce();
  const message = new Uint8Array(LABEL_HASH_BYTES + value.length);
  message.set(scopeLabelHash(ENVELOPE_VERSION, recipient.keyIdBytes, target), 0);
  message.set(value, LABEL_HASH_BYTES);
  const box = boxAfter(message, nonce, k);
  message.fill(0);
  k.fill(0);
  return Buffer.concat([Buffer.from([ENVELOPE_VERSION]), recipient.keyIdBytes, rawPublicKey(ephemeral.publicKey), nonce, box]).toString('base64');
}

export function decodeEnvelope(encoded: string, target: SealTarget): Envelope {
  if (encoded.length > MAX_ENVELOPE_BASE64_CHARS) throw fail(SealErrorCode.ValueTooLarge, target, `sealed value is larger than the ${MAX_VALUE_BYTES}-byte limit`);
  if (!isStrictBase64(encoded)) throw fail(SealErrorCode.Truncated, target, 'sealed value is not valid base64 (truncated or corrupted)');
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length >= 1 && bytes[0] !== ENVELOPE_VERSION) {
    throw fail(SealErrorCode.UnsupportedVersion, target, `envelope version ${bytes[0]} is not supported (this build reads version ${ENVELOPE_VERSION})`);
  }
  if (bytes.length < MIN_ENVELOPE_BYTES) throw fail(SealErrorCode.Truncated, target, `sealed value is truncated (${bytes.length} bytes, at least ${MIN_ENVELOPE_BYTES} needed)`);
  // Plain Uint8Array views into the decoded bytes, not copies (ciphertext and public values only;
  // nothing here needs zeroing). Plain, not Buffer, so tweetnacl sees one array type.
  let at = bytes.byteOffset + 1;
  const take = (n: number): Uint8Array => {
    const view = new Uint8Array(bytes.buffer, at, n);
    at += n;
    return view;
  };
  const keyId = take(KEY_ID_BYTES);
  const ephemeralPublicKey = take(X25519_KEY_BYTES);
  const nonce = take(BOX_NONCE_BYTES);
  const box = take(bytes.byteOffset + bytes.length - at);
  return { version: ENVELOPE_VERSION, keyId, ephemeralPublicKey, nonce, box };
}

/**
 * The little-endian u-coordinate is below p = 2^255 - 19 (so its top bit is also clear). p is
 * ed ff ff … ff 7f in little-endian bytes. Not constant-time: the ephemeral key is public.
 */
export function isCanonicalX25519(u: Uint8Array): boolean {
  if (u.length !== X25519_KEY_BYTES) return false;
  const top = u[31]!;
  if (top !== 0x7f) return top < 0x7f;
  for (let i = 30; i >= 1; i--) if (u[i] !== 0xff) return true;
  return u[0]! < 0xed;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function envelopeKeyId(encoded: string, target: SealTarget): string {
  return hex(decodeEnvelope(encoded, target).keyId);
}

/** Opens one value for `target`, choosing the key by the envelope's key id. */
export function openEnvelope(encoded: string, findKey: (keyId: string) => SealingKey | undefined, target: SealTarget): Uint8Array {
  const env = decodeEnvelope(encoded, target);
  const keyIdHex = hex(env.keyId);
  const key = findKey(keyIdHex);
  if (!key) throw fail(SealErrorCode.UnknownKeyId, target, `sealed for key ${keyIdHex}, which is not among the loaded sealing keys`);

  // X25519 ignores the top bit and reduces values >= p, so several encodings share one point;
  // accept only the canonical one, or a flipped bit would still open (envelope malleability).
  if (!isCanonicalX25519(env.ephemeralPublicKey)) throw fail(SealErrorCode.Tampered, target, `sealed value has a non-canonical ephemeral key (modified or corrupted)`);

  let message: Uint8Array | null;
  try {
    message = boxOpenAfter(env.box, env.nonce, cachedBoxKey(key.privateKey, env.ephemeralPublicKey));
  } catch {
    message = null; // low-order ephemeral point
  }
  if (!message) throw fail(SealErrorCode.Tampered, target, `sealed value failed authentication with key ${keyIdHex} (modified or corrupted)`);

  const sealedLabel = message.subarray(0, LABEL_HASH_BYTES);
  const expected = scopeLabelHash(env.version, env.keyId, target);
  if (!timingSafeEqual(sealedLabel, expected)) {
    const hint = scopeMismatchHint(sealedLabel, env, target);
    message.fill(0);
    throw fail(SealErrorCode.ScopeMismatch, target, hint);
  }
  return message.subarray(LABEL_HASH_BYTES);
}

/** Says which scope a value was sealed with when only the scope differs; it reveals nothing about the value. */
function scopeMismatchHint(sealedLabel: Uint8Array, env: Envelope, target: SealTarget): string {
  for (const scope of SCOPES) {
    if (scope === target.scope) continue;
    if (timingSafeEqual(sealedLabel, scopeLabelHash(env.version, env.keyId, { ...target, scope }))) {
      return `value was sealed with scope ${scope} but the SealedSecret declares scope ${target.scope}`;
    }
  }
  return `value was sealed for a different object, namespace, data key, scope or Secret type (scope ${target.scope}, type ${target.type})`;
}
