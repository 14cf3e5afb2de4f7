import { SealErrorCode } from './errors.js';
import { DEFAULT_SECRET_TYPE, SEALED_SECRET_API_VERSION, SEALED_SECRET_KIND, SCOPES, isScope, type SealTarget, type SealedSecret, type Scope } from './format.js';
import { Checker, isPlainObject } from './validate.js';

/** Reads and validates a syncgate SealedSecret object (docs/sealing.md §1). */

export interface ParsedSealedSecret {
  name: string;
  /** metadata.namespace, or the caller's default when the manifest leaves it out. */
  namespace: string | undefined;
  scope: Scope;
  type: string;
  immutable: boolean | undefined;
  labels: Record<string, string> | undefined;
  annotations: Record<string, string> | undefined;
  encryptedData: Map<string, string>;
}

export function isSealedSecret(value: unknown): boolean {
  return isPlainObject(value) && value.apiVersion === SEALED_SECRET_API_VERSION && value.kind === SEALED_SECRET_KIND;
}

export function parseSealedSecret(manifest: unknown, options: { namespace?: string } = {}): ParsedSealedSecret {
  const c: Checker = new Checker(SealErrorCode.InvalidSealedSecret, 'SealedSecret');
  const obj = c.object(manifest, '(document)');
  if (!isSealedSecret(obj)) {
    const bitnami = obj.apiVersion === 'bitnami.com/v1alpha1' ? ' (a Bitnami SealedSecret: use the Bitnami migration path)' : '';
    c.fail('apiVersion', `must be ${SEALED_SECRET_API_VERSION} with kind ${SEALED_SECRET_KIND}${bitnami}`);
  }
  c.onlyKeys(obj, ['apiVersion', 'kind', 'metadata', 'spec', 'status'], '');
  const meta = c.object(obj.metadata, 'metadata');
  const name = c.name(meta.name, 'metadata.name');
  const namespace = meta.namespace !== undefined ? c.namespace(meta.namespace, 'metadata.namespace') : options.namespace;

  const spec = c.object(obj.spec, 'spec');
  c.onlyKeys(spec, ['scope', 'encryptedData', 'template'], 'spec');
  const scope = spec.scope === undefined ? 'strict' : spec.scope;
  if (!isScope(scope)) c.fail('spec.scope', `must be one of ${SCOPES.join(', ')}`);
  if (namespace === undefined && scope !== 'cluster-wide') c.fail('metadata.namespace', `is required for scope ${scope}`);

  const encryptedData = new Map<string, string>();
  for (const [key, value] of Object.entries(c.object(spec.encryptedData, 'spec.encryptedData'))) {
    c.dataKey(key, `spec.encryptedData.${key}`);
    encryptedData.set(key, c.string(value, `spec.encryptedData.${key}`));
  }

  const template = c.optionalObject(spec.template, 'spec.template') ?? {};
  if ('data' in template) c.fail('spec.template.data', 'is not supported: plaintext template data could redirect sealed values; seal every value');
  c.onlyKeys(template, ['type', 'immutable', 'metadata'], 'spec.template');
  const type = template.type === undefined ? DEFAULT_SECRET_TYPE : c.secretType(template.type, 'spec.template.type');
  let immutable: boolean | undefined;
  if (template.immutable !== undefined) {
    if (typeof template.immutable !== 'boolean') c.fail('spec.template.immutable', 'must be a boolean');
    immutable = template.immutable;
  }
  const tmeta = c.optionalObject(template.metadata, 'spec.template.metadata') ?? {};
  c.onlyKeys(tmeta, ['labels', 'annotations', 'name', 'namespace'], 'spec.template.metadata');
  if (tmeta.name !== undefined && tmeta.name !== name) {
    c.fail('spec.template.metadata.name', 'must be absent or equal metadata.name: the Secret always takes the SealedSecret\'s name');
  }
  if (tmeta.namespace !== undefined && tmeta.namespace !== namespace) {
    c.fail('spec.template.metadata.namespace', 'must be absent or equal metadata.namespace: the Secret always lands in the SealedSecret\'s namespace');
  }
  return {
    name,
    namespace,
    scope,
    type,
    immutable,
    labels: c.stringMap(tmeta.labels, 'spec.template.metadata.labels'),
    annotations: c.stringMap(tmeta.annotations, 'spec.template.metadata.annotations'),
    encryptedData,
  };
}

export function targetFor(parsed: Pick<ParsedSealedSecret, 'scope' | 'namespace' | 'name' | 'type'>, dataKey: string): SealTarget {
  return { scope: parsed.scope, namespace: parsed.namespace ?? '', name: parsed.name, type: parsed.type, dataKey };
}

/** Builds the object; encryptedData keys are sorted so output is stable for diffs. */
export function buildSealedSecret(parts: Omit<ParsedSealedSecret, 'encryptedData'> & { encryptedData: Map<string, string> }): SealedSecret {
  const metadata: SealedSecret['metadata'] = { name: parts.name };
  if (parts.namespace !== undefined) metadata.namespace = parts.namespace;
  const encryptedData: Record<string, string> = {};
  for (const key of [...parts.encryptedData.keys()].sort()) encryptedData[key] = parts.encryptedData.get(key)!;
  const sealed: SealedSecret = {
    apiVersion: SEALED_SECRET_API_VERSION,
    kind: SEALED_SECRET_KIND,
    metadata,
    spec: { scope: parts.scope, encryptedData },
  };
  const template: NonNullable<SealedSecret['spec']['template']> = { type: parts.type };
  if (parts.immutable !== undefined) template.immutable = parts.immutable;
  if (parts.labels || parts.annotations) {
    template.metadata = {};
    if (parts.labels) template.metadata.labels = { ...parts.labels };
    if (parts.annotations) template.metadata.annotations = { ...parts.annotations };
  }
  sealed.spec.template = template;
  return sealed;
}
