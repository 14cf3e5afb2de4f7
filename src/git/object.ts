/**
 * Strict parsing of raw git commit and tag objects (the exact bytes of `git cat-file commit|tag`).
 *
 * Objects are never re-serialised: the signed payload is cut out of the original bytes, exactly as
 * git does (commit.c parse_buffer_signed_by_header, gpg-interface.c parse_signed_buffer), but the
 * framing rules are stricter than git's (see ../shared/corpus/signatures/expected-strict.json).
 */
import { GitObjectError, SignatureError } from '../errors.js';
import type { ObjectFormat } from './object-id.js';
import { formatForHexLength, isObjectId } from './object-id.js';

export type { GitObjectKind, ObjectFormat } from './object-id.js';
export { computeObjectId, computeObjectId as objectId, isObjectId } from './object-id.js';

export interface GitIdentity {
  name: string;
  email: string;
  /** Seconds since the epoch, as written in the object. */
  timestamp: number;
  /** The writer's UTC offset as written, e.g. "+0200". */
  timezone: string;
  /** `timestamp` as ISO 8601 UTC. */
  date: string;
}

/** One header of the header section, with its continuation lines. */
export interface ObjectHeader {
  key: string;
  /** False for a bare `key` line with no space after it. */
  hasValue: boolean;
  /** Value of the first line, then each continuation line without its leading space (no LF). */
  lines: Buffer[];
  /** Byte range [start, end) of the header in the raw object, including every line's LF. */
  start: number;
  end: number;
}

interface ParsedBase {
  format: ObjectFormat;
  raw: Buffer;
  headers: ObjectHeader[];
  /** Offset of the first byte after the blank line that ends the header section. */
  bodyStart: number;
  /** Everything after the blank line (tags: message and trailing signature). */
  body: Buffer;
}

export interface ParsedCommit extends ParsedBase {
  kind: 'commit';
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer: GitIdentity;
  encoding?: string;
}

export type TagTargetType = 'commit' | 'tree' | 'blob' | 'tag';

export interface ParsedTag extends ParsedBase {
  kind: 'tag';
  object: string;
  /** The type of the tagged object. */
  type: TagTargetType;
  tag: string;
  /** Very old tags (2005) have no tagger. */
  tagger?: GitIdentity;
}

export type ParsedObject = ParsedCommit | ParsedTag;

/** The signed payload and the signature text, as cut out of the raw object. */
export interface SignedParts {
  payload: Buffer;
  /** The signature as git hands it to the verifier (ASCII armor expected). */
  signature: string;
  /** Commits: the signature header (`gpgsig` / `gpgsig-sha256`). Tags: the trailing block. */
  location: 'header' | 'trailer';
  headerName?: string;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const NUL = 0x00;

const SIGNATURE_HEADER: Record<ObjectFormat, string> = { sha1: 'gpgsig', sha256: 'gpgsig-sha256' };
const STANDARD_COMMIT_HEADERS = new Set(['tree', 'parent', 'author', 'committer']);
const STANDARD_TAG_HEADERS = new Set(['object', 'type', 'tag', 'tagger']);
const TAG_TARGET_TYPES = new Set<string>(['commit', 'tree', 'blob', 'tag']);
/** Lines git takes as the start of a trailing tag signature (gpg-interface.c). */
const SIGNATURE_BEGIN_MARKERS = ['-----BEGIN PGP SIGNATURE-----', '-----BEGIN PGP MESSAGE-----', '-----BEGIN SSH SIGNATURE-----', '-----BEGIN SIGNED MESSAGE-----'];

function malformed(message: string): GitObjectError {
  return new GitObjectError('MALFORMED_OBJECT', message);
}

function isSignatureHeader(key: string): boolean {
  return key.startsWith('gpgsig');
}

/** Splits the header section; rejects CR, NUL, stray continuation lines and a missing blank line. */
function parseHeaderSection(raw: Buffer): { headers: ObjectHeader[]; bodyStart: number } {
  const headers: ObjectHeader[] = [];
  let pos = 0;
  let lineNo = 0;
  for (;;) {
    lineNo++;
    if (pos >= raw.length) throw malformed('header section is not terminated by a blank line');
    const eol = raw.indexOf(LF, pos);
    if (eol < 0) throw malformed(`header line ${lineNo} has no line feed`);
    if (eol === pos) return { headers, bodyStart: eol + 1 };
    const line = raw.subarray(pos, eol);
    if (line.includes(CR)) throw malformed(`header line ${lineNo} contains a carriage return`);
    if (line.includes(NUL)) throw malformed(`header line ${lineNo} contains a NUL byte`);
    if (line[0] === SP) {
      const current = headers.at(-1);
      if (!current) throw malformed('the object starts with a continuation line');
      current.lines.push(line.subarray(1));
      current.end = eol + 1;
    } else {
      const space = line.indexOf(SP);
      const key = line.subarray(0, space < 0 ? line.length : space).toString('latin1');
      if (!/^[\x21-\x7e]+$/.test(key)) throw malformed(`header line ${lineNo} has an invalid key`);
      headers.push({ key, hasValue: space >= 0, lines: [space < 0 ? Buffer.alloc(0) : line.subarray(space + 1)], start: pos, end: eol + 1 });
    }
    pos = eol + 1;
  }
}

function singleLineValue(header: ObjectHeader | undefined, key: string): string {
  if (!header || header.key !== key) throw malformed(`expected a "${key}" header`);
  if (!header.hasValue || header.lines.length !== 1) throw malformed(`"${key}" header must be a single line with a value`);
  const value = header.lines[0] as Buffer;
  const text = value.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(value)) throw malformed(`"${key}" header is not valid UTF-8`);
  return text;
}

const IDENTITY = /^([^<>\n]*) <([^<>\n]*)> (\d{1,15}) ([+-]\d{4})$/;

export function parseIdentity(value: string, key = 'identity'): GitIdentity {
  const m = IDENTITY.exec(value);
  if (!m) throw malformed(`"${key}" header is not "Name <email> timestamp +zzzz"`);
  const timestamp = Number(m[3]);
  const date = new Date(timestamp * 1000);
  if (!Number.isSafeInteger(timestamp) || Number.isNaN(date.getTime())) throw malformed(`"${key}" header has an invalid timestamp`);
  return { name: m[1] as string, email: m[2] as string, timestamp, timezone: m[4] as string, date: date.toISOString() };
}

function objectIdValue(header: ObjectHeader | undefined, key: string, format?: ObjectFormat): string {
  const value = singleLineValue(header, key);
  if (!isObjectId(value, format)) throw malformed(`"${key}" header is not a full lower-case object id${format ? ` (${format})` : ''}`);
  return value;
}

/** Headers other than the signature headers, whose position is judged separately. */
function nonSignatureHeaders(headers: ObjectHeader[]): ObjectHeader[] {
  return headers.filter((h) => !isSignatureHeader(h.key));
}

function rejectDuplicates(extra: ObjectHeader[], standard: Set<string>, once: string[]): void {
  const seen = new Set<string>();
  for (const h of extra) {
    if (standard.has(h.key)) throw malformed(`"${h.key}" header is out of order or repeated`);
    if (once.includes(h.key)) {
      if (seen.has(h.key)) throw malformed(`"${h.key}" header is repeated`);
      seen.add(h.key);
    }
  }
}

export function parseCommit(raw: Buffer): ParsedCommit {
  const { headers, bodyStart } = parseHeaderSection(raw);
  const std = nonSignatureHeaders(headers);
  let i = 0;
  const tree = objectIdValue(std[i++], 'tree');
  const format = formatForHexLength(tree.length) as ObjectFormat;
  const parents: string[] = [];
  while (std[i]?.key === 'parent') parents.push(objectIdValue(std[i++], 'parent', format));
  const author = parseIdentity(singleLineValue(std[i++], 'author'), 'author');
  const committer = parseIdentity(singleLineValue(std[i++], 'committer'), 'committer');
  const extra = std.slice(i);
  rejectDuplicates(extra, STANDARD_COMMIT_HEADERS, ['encoding']);
  const encodingHeader = extra.find((h) => h.key === 'encoding');
  const encoding = encodingHeader ? singleLineValue(encodingHeader, 'encoding') : undefined;
  return {
    kind: 'commit',
    format,
    raw,
    headers,
    bodyStart,
    body: raw.subarray(bodyStart),
    tree,
    parents,
    author,
    committer,
    ...(encoding !== undefined ? { encoding } : {}),
  };
}

export function parseTag(raw: Buffer): ParsedTag {
  const { headers, bodyStart } = parseHeaderSection(raw);
  const std = nonSignatureHeaders(headers);
  let i = 0;
  const object = objectIdValue(std[i++], 'object');
  const format = formatForHexLength(object.length) as ObjectFormat;
  const type = singleLineValue(std[i++], 'type');
  if (!TAG_TARGET_TYPES.has(type)) throw malformed(`"type" header names an unknown object type`);
  const tag = singleLineValue(std[i++], 'tag');
  if (tag.length === 0) throw malformed('"tag" header is empty');
  let tagger: GitIdentity | undefined;
  if (std[i]?.key === 'tagger') tagger = parseIdentity(singleLineValue(std[i++], 'tagger'), 'tagger');
  rejectDuplicates(std.slice(i), STANDARD_TAG_HEADERS, []);
  return {
    kind: 'tag',
    format,
    raw,
    headers,
    bodyStart,
    body: raw.subarray(bodyStart),
    object,
    type: type as TagTargetType,
    tag,
    ...(tagger ? { tagger } : {}),
  };
}

export function parseGitObject(raw: Buffer, kind: 'commit' | 'tag'): ParsedObject {
  return kind === 'commit' ? parseCommit(raw) : parseTag(raw);
}

function signatureError(code: string, message: string): SignatureError {
  return new SignatureError(code, message);
}

function extractCommitSignature(commit: ParsedCommit): SignedParts {
  const sigHeaders = commit.headers.filter((h) => isSignatureHeader(h.key));
  if (sigHeaders.length === 0) throw signatureError('UNSIGNED', 'commit has no signature header');
  if (sigHeaders.length > 1) {
    throw signatureError('MULTIPLE_SIGNATURES', `commit has ${sigHeaders.length} signature headers (${[...new Set(sigHeaders.map((h) => h.key))].join(', ')}); exactly one is accepted`);
  }
  const header = sigHeaders[0] as ObjectHeader;
  const committerIndex = commit.headers.findIndex((h) => h.key === 'committer');
  if (commit.headers.indexOf(header) < committerIndex) {
    throw signatureError('MISPLACED_SIGNATURE_HEADER', `"${header.key}" header comes before the committer header`);
  }
  const expected = SIGNATURE_HEADER[commit.format];
  if (header.key !== expected) {
    throw signatureError('MALFORMED_SIGNATURE', `"${header.key}" is not the signature header of a ${commit.format} commit ("${expected}")`);
  }
  if (!header.hasValue) throw signatureError('MALFORMED_SIGNATURE', 'signature header has no value');
  const signature = header.lines.map((l) => l.toString('latin1') + '\n').join('');
  const payload = Buffer.concat([commit.raw.subarray(0, header.start), commit.raw.subarray(header.end)]);
  return { payload, signature, location: 'header', headerName: header.key };
}

function extractTagSignature(tag: ParsedTag): SignedParts {
  const sigHeaders = tag.headers.filter((h) => isSignatureHeader(h.key));
  const begins: number[] = [];
  let pos = tag.bodyStart;
  while (pos < tag.raw.length) {
    const eol = tag.raw.indexOf(LF, pos);
    const end = eol < 0 ? tag.raw.length : eol;
    const line = tag.raw.subarray(pos, end).toString('latin1');
    if (SIGNATURE_BEGIN_MARKERS.some((m) => line.startsWith(m))) begins.push(pos);
    pos = end + 1;
  }
  const count = begins.length + sigHeaders.length;
  if (count === 0) throw signatureError('UNSIGNED', 'tag has no signature block');
  if (count > 1) throw signatureError('MULTIPLE_SIGNATURES', `tag has ${count} signatures (${begins.length} trailing blocks, ${sigHeaders.length} signature headers); exactly one is accepted`);
  if (begins.length === 0) throw signatureError('MISPLACED_SIGNATURE_HEADER', 'a tag signature must be the trailing block of the message, not a header');
  const start = begins[0] as number;
  return { payload: tag.raw.subarray(0, start), signature: tag.raw.subarray(start).toString('latin1'), location: 'trailer' };
}

/**
 * Cuts the payload and signature out of a parsed object. Throws SignatureError with UNSIGNED,
 * MULTIPLE_SIGNATURES, MISPLACED_SIGNATURE_HEADER or MALFORMED_SIGNATURE.
 */
export function extractSignature(object: ParsedObject): SignedParts {
  return object.kind === 'commit' ? extractCommitSignature(object) : extractTagSignature(object);
}
