import type { KeyObject } from 'node:crypto';
import { boxSharedKeyFromRaw } from './nacl-box.js';

/**
 * NaCl box keys (HSalsa20(X25519(sealing key, ephemeral key))) of the envelopes opened lately, per
 * sealing key. A reconciler sends the same SealedSecrets on every sync, and the X25519 step was
 * most of the cost of opening one (~45 µs of ~50). A box key opens only the one value sealed with
 * its ephemeral key, and the process already holds the private key that opens them all, so
 * keeping it adds nothing an attacker with the process memory would not have. Values themselves
 * are never kept.
 *
 * Keyed by the private KeyObject (a WeakMap): a key that leaves the keyring is never found again
 * (lookups go through the keyring first) and its entries go with it.
 */
export const BOX_KEYS_PER_SEALING_KEY = 4096;

const caches = new WeakMap<KeyObject, Map<string, Uint8Array>>();

/**
 * The box key for `ephemeralPublicKey` under `privateKey`, from the cache or computed (and then
 * kept, the least recently used dropped and zeroed past the bound). The caller must not change
 * or zero it. Throws like boxSharedKeyFromRaw for a low-order point; failures are not kept.
 */
export function cachedBoxKey(privateKey: KeyObject, ephemeralPublicKey: Uint8Array): Uint8Array {
  let cache = caches.get(privateKey);
  if (!cache) {
    cache = new Map();
    caches.set(privateKey, cache);
  }
  const id = Buffer.from(ephemeralPublicKey.buffer, ephemeralPublicKey.byteOffset, ephemeralPublicKey.byteLength).toString('latin1');
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const k = boxSharedKeyFromRaw(privateKey, ephemeralPublicKey);
  cache.set(id, k);
  if (cache.size > BOX_KEYS_PER_SEALING_KEY) {
    const [oldest, old] = cache.entries().next().value!;
    cache.delete(oldest);
    old.fill(0);
  }
  return k;
}
