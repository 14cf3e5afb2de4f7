import { hash } from 'node:crypto';
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

const DOMAIN_BYTES = Buffer.from(LABEL_DOMAIN, 'utf8');

/** Built in one buffer: label = domain || 0x00 || version || keyId || lp(scope) || lp(namespace) || lp(name) || lp(type) || lp(dataKey). */
export function scopeLabel(version: number, keyId: Uint8Array, target: SealTarget): Buffer {
  const { namespace, name } = boundLocation(target);
  const fields = [target.scope, namespace, name, target.type, target.dataKey];
  let size = DOMAIN_BYTES.length + 2 + keyId.length;
  for (const field of fields) {
    const n = Buffer.byteLength(field, 'utf8');
    if (n > 0xffff) throw new RangeError('scope label field too long');
    size += 2 + n;
  }
  const out = Buffer.alloc(size);
  let at = DOMAIN_BYTES.copy(out, 0);
  out[at++] = 0;
  out[at++] = version;
  out.set(keyId, at);
  at += keyId.length;
  for (const field of fields) {
    const n = out.write(field, at + 2, 'utf8');
    out.writeUInt16BE(n, at);
    at += 2 + n;
  }
  return out;
}

export function scopeLabelHash(version: number, keyId: Uint8Array, target: SealTarget): Buffer {
  return hash('sha256', scopeLabel(version, keyId, target), 'buffer');
}
