/**
 * The JSON body of POST /v1/gate. Its `manifests` string is most of it (hundreds of KiB of YAML):
 * rather than JSON.parse the whole body (which, for a source over ~100 KB, allocates every string
 * in V8's old generation: garbage that only a full GC reclaims, so the heap grows under load), the
 * top-level object is scanned for that one string literal, the rest is JSON.parse'd without it,
 * and the literal is handed on still escaped (EscapedYaml) for the pipeline to split, hash and
 * decode document by document. Anything the scan does not expect is parsed whole, as before.
 */
import { InputError } from '../errors.js';
import { EscapedYaml } from '../gate/escaped-yaml.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

function notJson(): InputError {
  // Never quote the parser's message: it repeats part of the body, which may hold a secret.
  return new InputError('REQUEST_NOT_JSON', 'the request body is not valid JSON');
}

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(b: Buffer, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

/** Index of the quote that closes the string literal opening at `i`, or -1. */
function stringEnd(b: Buffer, i: number): number {
  for (let q = b.indexOf(QUOTE, i + 1); q >= 0; q = b.indexOf(QUOTE, q + 1)) {
    let backslashes = 0;
    for (let k = q - 1; b[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return -1;
}

/** Index just past the JSON value starting at `i` (not validated: JSON.parse does that), or -1. */
function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) {
    const end = stringEnd(b, i);
    return end < 0 ? -1 : end + 1;
  }
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    for (let j = i; j < b.length; j++) {
      const d = b[j];
      if (d === QUOTE) {
        j = stringEnd(b, j);
        if (j < 0) return -1;
      } else if (d === LBRACE || d === LBRACKET) depth++;
      else if ((d === RBRACE || d === RBRACKET) && --depth === 0) return j + 1;
    }
    return -1;
  }
  let j = i;
  while (j < b.length && b[j] !== COMMA && b[j] !== RBRACE && b[j] !== RBRACKET && !isSpace(b[j])) j++;
  return j === i ? -1 : j;
}

/** [opening quote, closing quote] of the top-level `"manifests": "…"` literal, or undefined. */
function findManifestsLiteral(b: Buffer): [number, number] | undefined {
  let i = skipSpace(b, 0);
  if (b[i] !== LBRACE) return undefined;
  i = skipSpace(b, i + 1);
  let found: [number, number] | undefined;
  while (i < b.length) {
    if (b[i] !== QUOTE) return undefined;
    const keyEnd = stringEnd(b, i);
    // a key with an escape could spell "manifests" another way: parse such a body whole
    if (keyEnd < 0 || b.subarray(i, keyEnd).includes(BACKSLASH)) return undefined;
    const key = b.toString('latin1', i + 1, keyEnd);
    i = skipSpace(b, keyEnd + 1);
    if (b[i] !== COLON) return undefined;
    i = skipSpace(b, i + 1);
    if (key === 'manifests') {
      if (found || b[i] !== QUOTE) return undefined;
      const end = stringEnd(b, i);
      if (end < 0) return undefined;
      found = [i, end];
      i = end + 1;
    } else {
      i = skipValue(b, i);
      if (i < 0) return undefined;
    }
    i = skipSpace(b, i);
    if (b[i] === COMMA) i = skipSpace(b, i + 1);
    else if (b[i] === RBRACE) return skipSpace(b, i + 1) === b.length ? found : undefined;
    else return undefined;
  }
  return undefined;
}

/**
 * The request body as the pipeline takes it: the parsed object, its `manifests` string (when
 * it is one) left escaped as an EscapedYaml over `body` (with `rawDigest`, the SHA-256 of `raw`). Strict like express.json: an empty
 * body is `{}`, and anything but an object or array at the top is not JSON.
 */
export function parseGateBody(raw: Buffer, rawDigest?: Promise<string | null>): unknown {
  // A UTF-8 byte order mark may be ignored (RFC 8259 §8.1), as body-parser's decoder did.
  const body = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? raw.subarray(3) : raw;
  const first = body[skipSpace(body, 0)];
  if (first === undefined) return {};
  if (first !== LBRACE && first !== LBRACKET) throw notJson();
  const literal = findManifestsLiteral(body);
  try {
    if (!literal) return JSON.parse(body.toString('utf8')) as unknown;
    const [open, close] = literal;
    const rest = JSON.parse(`${body.toString('utf8', 0, open)}""${body.toString('utf8', close + 1)}`) as Record<string, unknown>;
    rest.manifests = new EscapedYaml(body, open + 1, close, rawDigest);
    return rest;
  } catch {
    throw notJson();
  }
}
