/**
 * A small strict DER reader that keeps every element's position in the original bytes, so the
 * CMS layer can hash and verify exactly the bytes that were signed (never a re-encoding).
 * Strict: definite minimal lengths, low tag numbers only, bounded depth and size, no trailing data.
 * Every failure is a DerError; the CMS layer turns it into CMS_MALFORMED.
 */

export class DerError extends Error {}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

const MAX_DEPTH = 32;

export interface DerNode {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  /** Offset of the identifier octet in `source`. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the element. */
  end: number;
  source: Uint8Array;
}

export function isConstructed(node: DerNode): boolean {
  return (node.tag & 0x20) !== 0;
}

/** The whole element (identifier, length, contents) as it appears in the source. */
export function rawBytes(node: DerNode): Buffer {
  return Buffer.from(node.source.buffer, node.source.byteOffset + node.start, node.end - node.start);
}

/** The content octets as they appear in the source. */
export function contentBytes(node: DerNode): Buffer {
  return Buffer.from(node.source.buffer, node.source.byteOffset + node.contentStart, node.end - node.contentStart);
}

/** Reads one element at `offset`; checks that it fits inside `limit`. */
export function readElement(source: Uint8Array, offset: number, limit = source.length): DerNode {
  if (offset >= limit) throw new DerError('unexpected end of data');
  const tag = source[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let pos = offset + 1;
  if (pos >= limit) throw new DerError('missing length');
  const first = source[pos++] as number;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError('indefinite length is not DER');
    if (count > 4) throw new DerError('length too large');
    if (pos + count > limit) throw new DerError('truncated length');
    if (source[pos] === 0) throw new DerError('non-minimal length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (source[pos++] as number);
    if (length < 0x80) throw new DerError('non-minimal length');
  }
  const end = pos + length;
  if (end > limit) throw new DerError('element runs past its container');
  return { tag, start: offset, contentStart: pos, end, source };
}

/** Parses a buffer that must hold exactly one element. */
export function parseDer(source: Uint8Array): DerNode {
  const node = readElement(source, 0);
  if (node.end !== source.length) throw new DerError('trailing data after the DER element');
  if (isConstructed(node)) children(node, 0);
  return node;
}

/** The children of a constructed element (validated recursively to MAX_DEPTH). */
export function children(node: DerNode, depth = 0): DerNode[] {
  if (!isConstructed(node)) throw new DerError(`element 0x${node.tag.toString(16)} is not constructed`);
  if (depth > MAX_DEPTH) throw new DerError('nesting too deep');
  const out: DerNode[] = [];
  let pos = node.contentStart;
  while (pos < node.end) {
    const child = readElement(node.source, pos, node.end);
    if (isConstructed(child)) children(child, depth + 1);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new DerError(`${what} is missing`);
  if (node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  return node;
}

/** Children of a constructed element with the given tag, with a count check. */
export function expectChildren(node: DerNode | undefined, tag: number, what: string, min: number, max = min): DerNode[] {
  const subs = children(expectTag(node, tag, what));
  if (subs.length < min || subs.length > max) throw new DerError(`${what}: expected ${min === max ? min : `${min}..${max}`} elements, found ${subs.length}`);
  return subs;
}

export function readOid(node: DerNode | undefined, what: string): string {
  const bytes = contentBytes(expectTag(node, TAG.OID, what));
  if (bytes.length === 0 || (bytes[bytes.length - 1] as number) & 0x80) throw new DerError(`${what}: malformed OID`);
  const arcs: bigint[] = [];
  let value = 0n;
  let fresh = true;
  for (const b of bytes) {
    if (fresh && b === 0x80) throw new DerError(`${what}: non-minimal OID arc`);
    value = (value << 7n) | BigInt(b & 0x7f);
    fresh = (b & 0x80) === 0;
    if (fresh) {
      arcs.push(value);
      value = 0n;
    }
  }
  const head = arcs[0] as bigint;
  const first = head < 80n ? head / 40n : 2n;
  return [first, head - first * 40n, ...arcs.slice(1)].join('.');
}

/** A small non-negative INTEGER (CMS versions). */
export function readSmallInteger(node: DerNode | undefined, what: string): number {
  const bytes = contentBytes(expectTag(node, TAG.INTEGER, what));
  if (bytes.length !== 1 || (bytes[0] as number) > 0x7f) throw new DerError(`${what}: expected a small non-negative integer`);
  return bytes[0] as number;
}

/** DER SET OF ordering: elements sorted by their encodings (X.690 §11.6). */
export function isDerSorted(nodes: readonly DerNode[]): boolean {
  for (let i = 1; i < nodes.length; i++) if (Buffer.compare(rawBytes(nodes[i - 1] as DerNode), rawBytes(nodes[i] as DerNode)) > 0) return false;
  return true;
}
