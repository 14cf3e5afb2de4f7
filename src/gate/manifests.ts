import yaml from 'js-yaml';
import { InputError } from '../errors.js';

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

/** Parses the request's `manifests` field: a multi-document YAML (or JSON) string, or a JSON array. */
export function parseManifests(input: unknown, limits: ManifestLimits): Manifest[] {
  let docs: unknown[];
  if (typeof input === 'string') docs = parseYamlStream(input);
  else if (Array.isArray(input)) docs = input;
  else throw new InputError('MANIFEST_PARSE_ERROR', 'manifests: must be a YAML string or a JSON array', { path: 'manifests' });

  if (docs.length > limits.manifests) {
    throw new InputError('MANIFEST_TOO_MANY', `manifests: ${docs.length} documents, more than the limit of ${limits.manifests}`, { path: 'manifests' });
  }
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
