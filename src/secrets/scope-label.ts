import { createHash } from 'node:crypto';
import type { SealTarget } from './format.js';

/** The canonical scope label (docs/sealing.md §3) and its SHA-256, which is sealed in front of every value. */

export const LABEL_DOMAIN = 'syncgate.dev/sealed-value';
export const LABEL_HASH_BYTES = 32;

/** The namespace and name that a scope binds; the others are blanked. */
export function boundLocation(target: SealTarget): { namespace: string; name: string } {
  switch (target.scope) {
    case 'strict':
      return { namespace: target.namespace, name: target.name };
    case 'namespace-wide':
      return { namespace: target.namespace, name: '' };
    case 'cluster-wide':
      return { namespace: '', name: '' };
  }
}

function lengthPrefixed(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length > 0xffff) throw new RangeError('scope label field too long');
  const out = Buffer.alloc(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

export function scopeLabel(version: number, keyId: Uint8Array, target: SealTarget): Buffer {
  const { namespace, name } = boundLocation(target);
  return Buffer.concat([
    Buffer.from(LABEL_DOMAIN, 'utf8'),
    Buffer.from([0, version]),
    keyId,
    lengthPrefixed(target.scope),
    lengthPrefixed(namespace),
    lengthPrefixed(name),
    lengthPrefixed(target.type),
    lengthPrefixed(target.dataKey),
  ]);
}

export function scopeLabelHash(version: number, keyId: Uint8Array, target: SealTarget): Buffer {
  return createHash('sha256').update(scopeLabel(version, keyId, target)).digest();
}
