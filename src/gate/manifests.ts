import { hash } from 'node:crypto';
import yaml from 'js-yaml';
import { InputError } from '../errors.js';
import { EscapedYaml } from './escaped-yaml.js';
import { isMarkerRest } from './marker-line.js';
import type { CachedDocument, ManifestCache, RenderedDocument } from './manifest-cache.js';

export interface ManifestLimits {
  manifests: number;
  manifestNodes: number;
  manifestDepth: number;
}

export interface Manifest {
  /** 0-based position in the request (YAML document or array element; empty documents are not counted). */
  index: number;
  object: Record<string, unknown>;
}

/** The document a YAML error line falls in, counting `---` separators before it. */
function documentAtLine(text: string, line: number): number {
  let doc = 0;
  let seenContent = false;
  const lines = text.split('\n', line + 1);
  for (let i = 0; i < lines.length && i <= line; i++) {
    const l = lines[i] ?? '';
    if (/^---(\s|$)/.test(l)) {
      if (seenContent) doc++;
      seenContent = false;
      if (l.slice(3).trim() !== '' && !l.slice(3).trim().startsWith('#')) seenContent = true;
    } else if (l.trim() !== '' && !l.trimStart().startsWith('#')) {
      seenContent = true;
    }
  }
  return doc;
}

function parseYamlStream(text: string): unknown[] {
  try {
    // The core schema: no timestamps, binary or other js-yaml extensions that Kubernetes would not produce.
    return yaml.loadAll(text, undefined, { schema: yaml.CORE_SCHEMA }).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    const mark = (err as { mark?: { line?: number } }).mark;
    const line = mark?.line ?? 0;
    const reason = (err as { reason?: string }).reason ?? (err as Error).message.split('\n')[0];
    throw new InputError('MANIFEST_PARSE_ERROR', `manifests: not valid YAML: ${reason} (line ${line + 1})`, {
      path: 'manifests',
      document: documentAtLine(text, line),
      line: line + 1,
    });
  }
}

/**
 * Walks every node once (aliases are counted each time they are reached, which is what makes
 * a YAML "billion laughs" expensive downstream) and stops at the limits.
 */
function checkShape(value: unknown, index: number, limits: ManifestLimits, budget: { nodes: number }): void {
  // Two parallel stacks rather than one of {v, depth} objects: no allocation per node (this walk
  // took a fifth of the YAML parse time with them).
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (++budget.nodes > limits.manifestNodes) {
      throw new InputError('MANIFEST_TOO_LARGE', `manifests: more than ${limits.manifestNodes} nodes in total (YAML aliases count each time they are used)`, {
        path: 'manifests',
        document: index,
      });
    }
    if (v !== null && typeof v === 'object') {
      if (depth >= limits.manifestDepth) {
        throw new InputError('MANIFEST_TOO_DEEP', `manifests: nesting deeper than ${limits.manifestDepth} levels`, { path: 'manifests', document: index });
      }
      const children: unknown[] = Array.isArray(v) ? v : Object.values(v);
      for (let i = 0; i < children.length; i++) {
        values.push(children[i]);
        depths.push(depth + 1);
      }
    }
  }
}

function checkManifest(doc: unknown, index: number): Record<string, unknown> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InputError('MANIFEST_NOT_OBJECT', `manifests[${index}]: a manifest must be a mapping (object), got ${Array.isArray(doc) ? 'an array' : typeof doc}`, {
      path: 'manifests',
      document: index,
    });
  }
  const obj = doc as Record<string, unknown>;
  for (const field of ['apiVersion', 'kind'] as const) {
    if (typeof obj[field] !== 'string' || obj[field] === '') {
      throw new InputError('MANIFEST_INVALID', `manifests[${index}]: ${field} must be a non-empty string`, { path: field, document: index });
    }
  }
  const metadata = obj.metadata;
  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new InputError('MANIFEST_INVALID', `manifests[${index}]: metadata must be a mapping`, { path: 'metadata', document: index });
  }
  return obj;
}

/**
 * The documents of a YAML stream, split the way Kubernetes' YAML reader splits them: at lines
 * that are `---` followed by nothing but blanks or a comment. Undefined when a `---` line has
 * content after it: such a stream is parsed whole. What a document may not hold (directives,
 * `...`, a second document) is judged when it is parsed (see parseCached).
 */
export function splitYamlDocuments(text: string): string[] | undefined {
  const docs: string[] = [];
  let start = 0;
  let at = text.startsWith('---') ? 0 : lineStartingWith(text, '---', 0);
  while (at >= 0) {
    const eol = text.indexOf('\n', at);
    const end = eol < 0 ? text.length : eol;
    const rest = text.slice(at + 3, end);
    // `---x` is not a marker but a plain scalar: it stays in its document for js-yaml to judge.
    if (rest === '' || /^[ \t\r]/.test(rest)) {
      if (!isMarkerRest(rest)) return undefined;
      docs.push(text.slice(start, at));
      start = end + 1;
    }
    if (eol < 0) break;
    at = lineStartingWith(text, '---', eol);
  }
  docs.push(text.slice(start));
  return docs;
}

/**
 * Whether a document split out of a stream may be parsed alone: a directive (`%`) or an end
 * marker (`...`) line would tie it to its neighbours, so a stream with one is parsed whole.
 */
function standsAlone(doc: string): boolean {
  // js-yaml drops a byte order mark only at the start of its input: one after a marker is content.
  return !(doc.startsWith('\uFEFF') || /(?:^|[\r\n])(?:%|\.\.\.)/.test(doc));
}

/** Index of the first line at or after `from` (a newline's index) that starts with `prefix`, or -1. */
function lineStartingWith(text: string, prefix: string, from: number): number {
  const i = text.indexOf(`\n${prefix}`, from);
  return i < 0 ? -1 : i + 1;
}

function checkLimits(count: number, limits: ManifestLimits): void {
  if (count > limits.manifests) {
    throw new InputError('MANIFEST_TOO_MANY', `manifests: ${count} documents, more than the limit of ${limits.manifests}`, { path: 'manifests' });
  }
}

/** One document of a request as the cache sees it: its key, its size, and its text on demand. */
interface Chunk {
  key: string;
  bytes: number;
  text: () => string;
}

/** Keys of decoded text and of JSON-escaped bytes are kept apart: the same bytes mean different documents. */
function textChunks(text: string): Chunk[] | undefined {
  // Hashing encodes as UTF-8, which turns a lone surrogate into U+FFFD: such text gets no key.
  if (!text.isWellFormed()) return undefined;
  return splitYamlDocuments(text)?.map((c) => ({ key: `y${hash('sha256', c, 'base64')}`, bytes: c.length, text: () => c }));
}

function escapedChunks(yaml: EscapedYaml, documents: readonly RenderedDocument[]): Chunk[] {
  return documents.map(({ from, to, key }) => ({ key, bytes: to - from, text: () => yaml.decodeRange(from, to) }));
}

function escapedDocuments(yaml: EscapedYaml): RenderedDocument[] | undefined {
  return yaml.split()?.map(([from, to]) => ({ from, to, key: `j${hash('sha256', yaml.buffer.subarray(from, to), 'base64')}` }));
}

/**
 * A YAML stream through the document cache: each document is looked up by the SHA-256 of its
 * text (or of its JSON-escaped bytes) and decoded, parsed and checked only when not found.
 * Undefined when a document does not parse alone as one document; the caller then parses the
 * stream whole, which also gives any error its line and document.
 */
function parseCached(chunks: Chunk[], limits: ManifestLimits, cache: ManifestCache): Manifest[] | undefined {
  const found: Array<{ doc: CachedDocument; chunk: Chunk; fresh: boolean }> = [];
  for (const [i, c] of chunks.entries()) {
    // A document after a marker is parsed after a marker (js-yaml reads the start of its input
    // differently: leading blanks, then `---`, are a marker there); the first one as the stream
    // starts. The same text in the two places can mean different things, so the keys differ too.
    const chunk = i === 0 ? { ...c, key: `^${c.key}` } : c;
    const doc = cache.get(chunk.key);
    if (doc) {
      found.push({ doc, chunk, fresh: false });
      continue;
    }
    let parsed: unknown[];
    try {
      const text = chunk.text();
      if (!standsAlone(text)) return undefined;
      parsed = yaml.loadAll(i === 0 ? text : `---\n${text}`, undefined, { schema: yaml.CORE_SCHEMA }).filter((d) => d !== null && d !== undefined);
    } catch {
      return undefined;
    }
    if (parsed.length > 1) return undefined;
    found.push({ doc: { object: (parsed[0] ?? null) as Record<string, unknown> | null, nodes: 0 }, chunk, fresh: true });
  }
  const present = found.filter((f) => f.doc.object !== null);
  checkLimits(present.length, limits);
  const budget = { nodes: 0 };
  const manifests = present.map((f, index): Manifest => {
    if (f.fresh) {
      const before = budget.nodes;
      checkShape(f.doc.object, index, limits, budget);
      checkManifest(f.doc.object, index);
      f.doc.nodes = budget.nodes - before;
    } else {
      budget.nodes += f.doc.nodes;
      if (budget.nodes > limits.manifestNodes) {
        throw new InputError('MANIFEST_TOO_LARGE', `manifests: more than ${limits.manifestNodes} nodes in total (YAML aliases count each time they are used)`, {
          path: 'manifests',
          document: index,
        });
      }
    }
    return { index, object: f.doc.object as Record<string, unknown> };
  });
  // Only a request that passed every check adds its documents: a bad one leaves the cache as it was.
  for (const f of found) if (f.fresh) cache.set(f.chunk.key, f.doc, f.chunk.bytes);
  return manifests;
}

/**
 * The cache key of a JSON value given as an object (an array element): `o` and the SHA-256 of its
 * JSON text, apart from the keys of YAML text (`y`) and escaped bytes (`j`). Undefined when the
 * text would not stand for the value exactly (a number JSON cannot write, such as -0 or
 * Infinity, which JSON.parse gives for 1e400; anything but a plain object or array, string,
 * boolean or null) or when it is beyond the limits (the shape check then says why, with its
 * code). Such an element is checked and evaluated afresh every time.
 */
function objectKey(value: unknown, limits: ManifestLimits): { key: string; bytes: number } | undefined {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  let nodes = 0;
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (++nodes > limits.manifestNodes) return undefined;
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Object.is(v, -0)) return undefined;
    } else if (v !== null && typeof v === 'object') {
      if (depth >= limits.manifestDepth) return undefined;
      let children: unknown[];
      if (Array.isArray(v)) children = v;
      else {
        const proto: unknown = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) return undefined;
        children = Object.values(v);
      }
      for (let i = 0; i < children.length; i++) {
        values.push(children[i]);
        depths.push(depth + 1);
      }
    } else if (typeof v !== 'string' && typeof v !== 'boolean' && v !== null) {
      return undefined;
    }
  }
  const text = JSON.stringify(value);
  return { key: `o${hash('sha256', text, 'base64')}`, bytes: text.length };
}

/**
 * A JSON array of manifests through the document cache: an element whose JSON text was seen
 * before gets the frozen object checked then (its nodes still charged to this request's budget);
 * any other is checked as without a cache, and kept only once the whole request passed. The
 * same manifests, errors and error locations as without a cache.
 */
function parseArrayCached(docs: unknown[], limits: ManifestLimits, cache: ManifestCache): Manifest[] {
  checkLimits(docs.length, limits);
  const budget = { nodes: 0 };
  const fresh: Array<{ key: string; bytes: number; doc: CachedDocument }> = [];
  const manifests = docs.map((doc, index): Manifest => {
    const key = objectKey(doc, limits);
    const cached = key && cache.get(key.key);
    if (cached) {
      budget.nodes += cached.nodes;
      if (budget.nodes > limits.manifestNodes) {
        throw new InputError('MANIFEST_TOO_LARGE', `manifests: more than ${limits.manifestNodes} nodes in total (YAML aliases count each time they are used)`, {
          path: 'manifests',
          document: index,
        });
      }
      return { index, object: cached.object as Record<string, unknown> };
    }
    const before = budget.nodes;
    checkShape(doc, index, limits, budget);
    const object = checkManifest(doc, index);
    if (key) fresh.push({ ...key, doc: { object, nodes: budget.nodes - before } });
    return { index, object };
  });
  // Only a request that passed every check adds its objects (frozen from then on).
  for (const f of fresh) cache.set(f.key, f.doc, f.bytes);
  return manifests;
}

function decodeEscaped(input: EscapedYaml): string {
  try {
    return input.decode();
  } catch {
    throw new InputError('REQUEST_NOT_JSON', 'the request body is not valid JSON: manifests is not a valid JSON string', { path: 'manifests' });
  }
}

/**
 * Parses the request's `manifests` field: a multi-document YAML (or JSON) string (decoded, or
 * still JSON-escaped as it arrived), or a JSON array. With a cache, objects of YAML documents
 * and of array elements seen before are shared between requests and frozen.
 */
export function parseManifests(input: unknown, limits: ManifestLimits, cache?: ManifestCache, bodyDigest?: string): Manifest[] {
  const caching = cache !== undefined && cache.maxBytes > 0;
  if (input instanceof EscapedYaml) {
    // `bodyDigest`: the SHA-256 of the body `input` lies in (its own input.bodyDigest, resolved)
    const literal = { bodyBytes: input.buffer.length, start: input.start, end: input.end };
    const remembered = caching && bodyDigest !== undefined ? cache!.rendering(bodyDigest, literal) : undefined;
    const documents = remembered ?? (caching ? escapedDocuments(input) : undefined);
    const manifests = documents && parseCached(escapedChunks(input, documents), limits, cache!);
    if (manifests) {
      if (!remembered && bodyDigest !== undefined) cache!.rememberRendering(bodyDigest, literal, documents!);
      return manifests;
    }
    input = decodeEscaped(input);
  }
  if (typeof input === 'string' && caching) {
    const chunks = textChunks(input);
    const manifests = chunks && parseCached(chunks, limits, cache!);
    if (manifests) return manifests;
  }
  let docs: unknown[];
  if (typeof input === 'string') docs = parseYamlStream(input);
  else if (Array.isArray(input)) {
    if (caching) return parseArrayCached(input, limits, cache!);
    docs = input;
  }
  else throw new InputError('MANIFEST_PARSE_ERROR', 'manifests: must be a YAML string or a JSON array', { path: 'manifests' });

  checkLimits(docs.length, limits);
  const budget = { nodes: 0 };
  return docs.map((doc, index) => {
    checkShape(doc, index, limits, budget);
    return { index, object: checkManifest(doc, index) };
  });
}

/** apiVersion/kind/namespace/name of a manifest, for failure lists and audit records. */
export function describeManifest(m: Manifest): { apiVersion: string; kind: string; namespace?: string; name?: string; document: number } {
  const md = (m.object.metadata ?? {}) as Record<string, unknown>;
  return {
    apiVersion: String(m.object.apiVersion),
    kind: String(m.object.kind),
    ...(typeof md.namespace === 'string' ? { namespace: md.namespace } : {}),
    ...(typeof md.name === 'string' ? { name: md.name } : {}),
    document: m.index,
  };
}
