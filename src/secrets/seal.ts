import { SealErrorCode, inputError } from './errors.js';
import { DEFAULT_SECRET_TYPE, MAX_VALUE_BYTES, type SealTarget, type SealedSecret, type Scope, isScope, SCOPES } from './format.js';
import { sealEnvelope } from './envelope.js';
import type { SealingPublicKey } from './keys.js';
import { buildSealedSecret, parseSealedSecret, targetFor } from './sealed-secret-manifest.js';
import { isSecretManifest, parseSecretManifest } from './secret-manifest.js';
import { Checker } from './validate.js';

export interface SealSecretOptions {
  scope?: Scope;
  /** Used when the Secret has no metadata.namespace (e.g. the CLI's --namespace). */
  namespace?: string;
  /** Seal a Secret with no data at all. */
  allowEmpty?: boolean;
}

function checkScope(scope: unknown): Scope {
  if (!isScope(scope)) throw inputError(SealErrorCode.InvalidSecret, `scope must be one of ${SCOPES.join(', ')}`, 'scope');
  return scope;
}

/** Seals every value of a v1 Secret manifest into a syncgate SealedSecret. */
export function sealSecret(secretManifest: unknown, publicKey: SealingPublicKey, options: SealSecretOptions = {}): SealedSecret {
  const scope = checkScope(options.scope ?? 'strict');
  const secret = parseSecretManifest(secretManifest, { allowEmpty: options.allowEmpty ?? false });
  if (secret.name === undefined) throw inputError(SealErrorCode.InvalidSecret, 'Secret: metadata.name is required to seal', 'metadata.name');
  const namespace = secret.namespace ?? options.namespace;
  if (namespace === undefined && scope !== 'cluster-wide') {
    throw inputError(SealErrorCode.InvalidSecret, `Secret ${secret.name}: metadata.namespace is required for scope ${scope}`, 'metadata.namespace');
  }
  if (namespace !== undefined) new Checker(SealErrorCode.InvalidSecret, 'Secret').namespace(namespace, 'metadata.namespace');
  const parts = { name: secret.name, namespace, scope, type: secret.type, immutable: secret.immutable, labels: secret.labels, annotations: secret.annotations };
  const encryptedData = new Map<string, string>();
  for (const [dataKey, value] of secret.values) encryptedData.set(dataKey, sealEnvelope(value, publicKey, targetFor(parts, dataKey)));
  return buildSealedSecret({ ...parts, encryptedData });
}

export interface SealValueTarget {
  scope?: Scope;
  namespace?: string;
  name?: string;
  dataKey: string;
  type?: string;
}

/** Seals one value (raw mode). The data key is always bound; name and namespace as the scope requires. */
export function sealValue(value: Uint8Array | string, publicKey: SealingPublicKey, target: SealValueTarget): string {
  const c: Checker = new Checker(SealErrorCode.InvalidSecret, 'sealValue');
  const scope = checkScope(target.scope ?? 'strict');
  c.dataKey(target.dataKey, 'dataKey');
  if (scope !== 'cluster-wide') {
    if (target.namespace === undefined) c.fail('namespace', `is required for scope ${scope}`);
    c.namespace(target.namespace, 'namespace');
  }
  if (scope === 'strict') {
    if (target.name === undefined) c.fail('name', 'is required for scope strict');
    c.name(target.name, 'name');
  }
  const type = target.type === undefined ? DEFAULT_SECRET_TYPE : c.secretType(target.type, 'type');
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length > MAX_VALUE_BYTES) throw inputError(SealErrorCode.ValueTooLarge, `value for data key "${target.dataKey}" is larger than ${MAX_VALUE_BYTES} bytes`, 'value');
  const full: SealTarget = { scope, namespace: target.namespace ?? '', name: target.name ?? '', type, dataKey: target.dataKey };
  return sealEnvelope(bytes, publicKey, full);
}

/**
 * Adds or replaces values in an existing SealedSecret, sealed for its own scope, namespace, name
 * and type; every other value and field is left byte-for-byte as it was (small Git diffs).
 * `newValues` is a map of data key to plaintext, or a v1 Secret manifest whose values are taken.
 */
export function mergeInto(
  existingSealed: unknown,
  newValues: Record<string, Uint8Array | string> | object,
  publicKey: SealingPublicKey,
  options: { namespace?: string } = {},
): SealedSecret {
  const existing = parseSealedSecret(existingSealed, options);
  const values = valuesToMerge(newValues, existing);
  const result = structuredClone(existingSealed) as SealedSecret;
  const encryptedData = result.spec.encryptedData;
  for (const [dataKey, value] of values) encryptedData[dataKey] = sealEnvelope(value, publicKey, targetFor(existing, dataKey));
  return result;
}

function valuesToMerge(newValues: object, existing: ReturnType<typeof parseSealedSecret>): Map<string, Uint8Array> {
  if (isSecretManifest(newValues)) {
    const secret = parseSecretManifest(newValues);
    const declaredType = (newValues as { type?: unknown }).type;
    const mismatch = (field: string, what: string): never => {
      throw inputError(SealErrorCode.MergeMismatch, `cannot merge Secret into SealedSecret ${existing.namespace ?? ''}/${existing.name}: ${what} differs`, field);
    };
    if (secret.name !== undefined && secret.name !== existing.name) mismatch('metadata.name', 'metadata.name');
    if (secret.namespace !== undefined && secret.namespace !== existing.namespace) mismatch('metadata.namespace', 'metadata.namespace');
    if (declaredType !== undefined && declaredType !== null && secret.type !== existing.type) mismatch('type', 'the Secret type');
    return secret.values;
  }
  const c: Checker = new Checker(SealErrorCode.InvalidSecret, 'values to merge');
  const out = new Map<string, Uint8Array>();
  for (const [dataKey, value] of Object.entries(newValues as Record<string, unknown>)) {
    c.dataKey(dataKey, dataKey);
    let bytes: Uint8Array;
    if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
    else if (value instanceof Uint8Array) bytes = value;
    else c.fail(dataKey, 'must be a string or bytes');
    if (bytes.length > MAX_VALUE_BYTES) throw inputError(SealErrorCode.ValueTooLarge, `value for data key "${dataKey}" is larger than ${MAX_VALUE_BYTES} bytes`, dataKey);
    out.set(dataKey, bytes);
  }
  if (out.size === 0) throw inputError(SealErrorCode.EmptySecret, 'no values to merge', '');
  return out;
}
