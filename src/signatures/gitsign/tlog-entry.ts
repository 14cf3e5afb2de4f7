/**
 * Strict decoding of the protobuf `dev.sigstore.rekor.v1.TransparencyLogEntry` that offline-mode
 * gitsign stores in unsigned attribute 57264.3.1 (specs/gitsign.md §3.2), into the JSON shape of a
 * Sigstore bundle's tlogEntries[]. Only the fields of the schema are accepted, each singular field
 * at most once, with its declared wire type; negative or oversized integers are refused.
 * `@sigstore/protobuf-specs` has JSON codecs only, hence these few lines.
 */
import { GitsignError } from './errors.js';

/** JSON form of a TransparencyLogEntry as a bundle carries it. */
export interface TlogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  inclusionPromise?: { signedEntryTimestamp: string };
  inclusionProof?: { logIndex: string; rootHash: string; treeSize: string; hashes: string[]; checkpoint: { envelope: string } };
  canonicalizedBody?: string;
}

const MAX_ENTRY_BYTES = 32 * 1024;
const VARINT = 0;
const LEN = 2;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(message: string): GitsignError {
  return new GitsignError('REKOR_ENTRY_MALFORMED', `Rekor entry: ${message}`);
}

type Field = { number: number; wire: number; varint?: bigint; bytes?: Buffer };

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw malformed('truncated varint');
    const b = buf[pos++] as number;
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) return [value, pos];
  }
  throw malformed('varint too long');
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, next] = readVarint(buf, pos);
    pos = next;
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === VARINT) {
      const [value, after] = readVarint(buf, pos);
      pos = after;
      out.push({ number, wire, varint: value });
    } else if (wire === LEN) {
      const [length, after] = readVarint(buf, pos);
      if (length > BigInt(buf.length - after)) throw malformed('length-delimited field runs past the end');
      pos = after + Number(length);
      out.push({ number, wire, bytes: buf.subarray(after, pos) });
    } else {
      throw malformed(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

/** Message fields by number, with the schema's wire types and repetition enforced. */
function message(buf: Buffer, schema: Record<number, { wire: number; repeated?: boolean }>, what: string): Map<number, Field[]> {
  const byNumber = new Map<number, Field[]>();
  for (const f of fields(buf)) {
    const spec = schema[f.number];
    if (!spec) throw malformed(`${what}: unknown field ${f.number}`);
    if (spec.wire !== f.wire) throw malformed(`${what}: field ${f.number} has the wrong wire type`);
    const list = byNumber.get(f.number) ?? [];
    if (list.length > 0 && !spec.repeated) throw malformed(`${what}: field ${f.number} appears twice`);
    list.push(f);
    byNumber.set(f.number, list);
  }
  return byNumber;
}

function int64(m: Map<number, Field[]>, n: number, what: string, required = true): string | undefined {
  const f = m.get(n)?.[0];
  if (!f) {
    if (required) throw malformed(`${what} is missing`);
    return undefined;
  }
  const v = f.varint as bigint;
  if (v >= 1n << 63n) throw malformed(`${what} is negative or too large`);
  return v.toString();
}

function bytes(m: Map<number, Field[]>, n: number): Buffer | undefined {
  return m.get(n)?.[0]?.bytes;
}

function text(m: Map<number, Field[]>, n: number, what: string): string {
  const b = bytes(m, n);
  if (!b) throw malformed(`${what} is missing`);
  try {
    return utf8.decode(b);
  } catch {
    throw malformed(`${what} is not UTF-8`);
  }
}

const b64 = (b: Buffer): string => b.toString('base64');

export function decodeTlogEntry(buf: Buffer): TlogEntryJson {
  if (buf.length === 0) throw malformed('empty');
  if (buf.length > MAX_ENTRY_BYTES) throw malformed(`larger than ${MAX_ENTRY_BYTES} bytes`);
  const top = message(buf, { 1: { wire: VARINT }, 2: { wire: LEN }, 3: { wire: LEN }, 4: { wire: VARINT }, 5: { wire: LEN }, 6: { wire: LEN }, 7: { wire: LEN } }, 'entry');
  // proto3 omits zero values: an absent log_index is 0; an absent integrated_time is refused later.
  const logIndex = int64(top, 1, 'log_index', false) ?? '0';
  const integratedTime = int64(top, 4, 'integrated_time', false) ?? '0';
  const logId = message(bytes(top, 2) ?? Buffer.alloc(0), { 1: { wire: LEN } }, 'log_id');
  const keyId = bytes(logId, 1);
  if (!keyId || keyId.length === 0) throw malformed('log_id.key_id is missing');
  const kv = message(bytes(top, 3) ?? Buffer.alloc(0), { 1: { wire: LEN }, 2: { wire: LEN } }, 'kind_version');
  const entry: TlogEntryJson = {
    logIndex,
    logId: { keyId: b64(keyId) },
    kindVersion: { kind: text(kv, 1, 'kind'), version: text(kv, 2, 'version') },
    integratedTime,
  };
  const promise = bytes(top, 5);
  if (promise) {
    const set = bytes(message(promise, { 1: { wire: LEN } }, 'inclusion_promise'), 1);
    if (!set || set.length === 0) throw malformed('inclusion_promise has no signed entry timestamp');
    entry.inclusionPromise = { signedEntryTimestamp: b64(set) };
  }
  const proof = bytes(top, 6);
  if (proof) {
    const p = message(proof, { 1: { wire: VARINT }, 2: { wire: LEN }, 3: { wire: VARINT }, 4: { wire: LEN, repeated: true }, 5: { wire: LEN } }, 'inclusion_proof');
    const checkpoint = message(bytes(p, 5) ?? Buffer.alloc(0), { 1: { wire: LEN } }, 'checkpoint');
    entry.inclusionProof = {
      logIndex: int64(p, 1, 'inclusion_proof.log_index', false) ?? '0',
      rootHash: b64(bytes(p, 2) ?? Buffer.alloc(0)),
      treeSize: int64(p, 3, 'inclusion_proof.tree_size') as string,
      hashes: (p.get(4) ?? []).map((f) => b64(f.bytes as Buffer)),
      checkpoint: { envelope: text(checkpoint, 1, 'checkpoint envelope') },
    };
  }
  const body = bytes(top, 7);
  if (body && body.length > 0) entry.canonicalizedBody = b64(body);
  return entry;
}
