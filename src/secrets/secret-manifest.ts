import { SealErrorCode, inputError } from './errors.js';
import { DEFAULT_SECRET_TYPE, MAX_VALUE_BYTES, type Secret } from './format.js';
import { Checker, isPlainObject } from './validate.js';

/** A v1 Secret read for sealing: metadata that matters plus the decoded values. */
export interface SecretInput {
  name: string | undefined;
  namespace: string | undefined;
  type: string;
  immutable: boolean | undefined;
  labels: Record<string, string> | undefined;
  annotations: Record<string, string> | undefined;
  values: Map<string, Uint8Array>;
}

/** Annotations that hold a copy of the whole object, plaintext included (Bitnami SS#227). */
export const STRIPPED_ANNOTATIONS: readonly string[] = [
  'kubectl.kubernetes.io/last-applied-configuration',
  'kubecfg.ksonnet.io/last-applied-configuration',
];

const TOP_LEVEL = ['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'];
const MAX_BASE64_CHARS = Math.ceil(MAX_VALUE_BYTES / 3) * 4;

export function isSecretManifest(value: unknown): boolean {
  return isPlainObject(value) && value.apiVersion === 'v1' && value.kind === 'Secret';
}

/**
 * Validates a v1 Secret (as parsed from YAML or JSON) and decodes its values. `stringData` wins over
 * `data` for the same key, as in Kubernetes. Server-populated metadata (uid, resourceVersion, …) is dropped.
 */
export function parseSecretManifest(manifest: unknown, options: { allowEmpty?: boolean } = {}): SecretInput {
  if (!isSecretManifest(manifest)) {
    const what = isPlainObject(manifest) ? `apiVersion ${JSON.stringify(manifest.apiVersion)} kind ${JSON.stringify(manifest.kind)}` : 'not an object';
    throw inputError(SealErrorCode.NotASecret, `input is not a v1 Secret (${what}); only apiVersion v1, kind Secret can be sealed`, 'kind');
  }
  const c: Checker = new Checker(SealErrorCode.InvalidSecret, 'Secret');
  const obj = manifest as Record<string, unknown>;
  c.onlyKeys(obj, TOP_LEVEL, '');

  const meta = c.optionalObject(obj.metadata, 'metadata') ?? {};
  const name = meta.name === undefined ? undefined : c.name(meta.name, 'metadata.name');
  const namespace = meta.namespace === undefined ? undefined : c.namespace(meta.namespace, 'metadata.namespace');
  const labels = c.stringMap(meta.labels, 'metadata.labels');
  let annotations = c.stringMap(meta.annotations, 'metadata.annotations');
  if (annotations) {
    annotations = Object.fromEntries(Object.entries(annotations).filter(([k]) => !STRIPPED_ANNOTATIONS.includes(k)));
    if (Object.keys(annotations).length === 0) annotations = undefined;
  }
  const type = obj.type === undefined || obj.type === null ? DEFAULT_SECRET_TYPE : c.secretType(obj.type, 'type');
  let immutable: boolean | undefined;
  if (obj.immutable !== undefined && obj.immutable !== null) {
    if (typeof obj.immutable !== 'boolean') c.fail('immutable', 'must be a boolean');
    immutable = obj.immutable;
  }

  const values = new Map<string, Uint8Array>();
  const data = c.optionalObject(obj.data, 'data') ?? {};
  for (const [key, raw] of Object.entries(data)) {
    const path = `data.${key}`;
    c.dataKey(key, path);
    if (typeof raw === 'string' && raw.length > MAX_BASE64_CHARS) throw tooLarge(path);
    values.set(key, raw === null ? new Uint8Array(0) : c.base64(raw, path));
  }
  const stringData = c.optionalObject(obj.stringData, 'stringData') ?? {};
  for (const [key, raw] of Object.entries(stringData)) {
    const path = `stringData.${key}`;
    c.dataKey(key, path);
    const s = raw === null ? '' : c.string(raw, path);
    if (s.length > MAX_VALUE_BYTES) throw tooLarge(path);
    values.set(key, Buffer.from(s, 'utf8'));
  }

  let total = 0;
  for (const [key, value] of values) {
    if (value.length > MAX_VALUE_BYTES) throw tooLarge(`data.${key}`);
    total += value.length;
  }
  if (total > MAX_VALUE_BYTES) {
    throw inputError(SealErrorCode.ValueTooLarge, `Secret ${name ?? ''}: the values together exceed the Kubernetes limit of ${MAX_VALUE_BYTES} bytes`, 'data');
  }
  if (values.size === 0 && !options.allowEmpty) {
    throw inputError(SealErrorCode.EmptySecret, `Secret ${name ?? ''} has no data or stringData to seal`, 'data');
  }
  return { name, namespace, type, immutable, labels, annotations, values };
}

function tooLarge(path: string): Error {
  return inputError(SealErrorCode.ValueTooLarge, `Secret: ${path} is larger than ${MAX_VALUE_BYTES} bytes`, path);
}

/** The Secret an unsealed SealedSecret produces. */
export function buildSecret(parts: {
  name: string;
  namespace: string | undefined;
  type: string;
  immutable: boolean | undefined;
  labels: Record<string, string> | undefined;
  annotations: Record<string, string> | undefined;
  values: Map<string, Uint8Array>;
}): Secret {
  const metadata: Secret['metadata'] = { name: parts.name };
  if (parts.namespace !== undefined) metadata.namespace = parts.namespace;
  if (parts.labels) metadata.labels = { ...parts.labels };
  if (parts.annotations) metadata.annotations = { ...parts.annotations };
  const data: Record<string, string> = {};
  for (const [key, value] of parts.values) data[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata, type: parts.type, data };
  if (parts.immutable !== undefined) secret.immutable = parts.immutable;
  return secret;
}
