/** Git object ids: `hash("<kind> <len>\0" + bytes)` for the repository's object format. */
import { hash } from 'node:crypto';

export type ObjectFormat = 'sha1' | 'sha256';
export type GitObjectKind = 'commit' | 'tag' | 'tree' | 'blob';

export const GIT_OBJECT_KINDS: readonly GitObjectKind[] = ['commit', 'tag', 'tree', 'blob'];

const HEX_LENGTH: Record<ObjectFormat, number> = { sha1: 40, sha256: 64 };

/** The object format whose ids have this many hex digits, if any. */
export function formatForHexLength(length: number): ObjectFormat | undefined {
  if (length === 40) return 'sha1';
  if (length === 64) return 'sha256';
  return undefined;
}

/** A full, lower-case object id (of the given format, or of either). */
export function isObjectId(value: string, format?: ObjectFormat): boolean {
  if (format) return value.length === HEX_LENGTH[format] && /^[0-9a-f]+$/.test(value);
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(value);
}

/** Scratch space for the hash input: computing an id is synchronous, so one buffer serves every call. */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);

/** The id in one hashing call over header and bytes (the verifier computes one per cached lookup). */
export function computeObjectId(kind: GitObjectKind, raw: Uint8Array, format: ObjectFormat): string {
  const header = `${kind} ${raw.length}\0`;
  const algorithm = format === 'sha1' ? 'sha1' : 'sha256';
  if (header.length + raw.length > SCRATCH.length) return hash(algorithm, Buffer.concat([Buffer.from(header, 'latin1'), raw]), 'hex');
  let n = 0;
  for (; n < header.length; n++) SCRATCH[n] = header.charCodeAt(n);
  SCRATCH.set(raw, n);
  return hash(algorithm, SCRATCH.subarray(0, n + raw.length), 'hex');
}
