import { createDecipheriv, createPrivateKey, privateDecrypt, constants, type KeyObject } from 'node:crypto';
import yaml from 'js-yaml';
import { SealError, SealErrorCode, keyError } from './errors.js';
import { DEFAULT_SECRET_TYPE, MAX_VALUE_BYTES, objectRef, type SealedSecret, type Scope, type Secret } from './format.js';
import type { SealingPublicKey } from './keys.js';
import { sealSecret } from './seal.js';
import { buildSecret } from './secret-manifest.js';
import { Checker, isPlainObject, isStrictBase64 } from './validate.js';

/**
 * Opens Bitnami `bitnami.com/v1alpha1` SealedSecrets for migration (docs/sealing.md §6):
 * value = base64(uint16_be(len(rsaCt)) || rsaCt || AES-256-GCM(ct || tag), nonce = 12 zero bytes),
 * rsaCt = RSA-OAEP-SHA256(sessionKey, label = scope label).
 */

export const BITNAMI_API_VERSION = 'bitnami.com/v1alpha1';
const ANNOTATION_PREFIX = 'sealedsecrets.bitnami.com/';
const GCM_TAG_BYTES = 16;
const AES_KEY_BYTES = 32;
// value + 16-byte tag + length prefix + an RSA ciphertext of up to 16384 bits
const MAX_BITNAMI_BASE64_CHARS = Math.ceil((MAX_VALUE_BYTES + GCM_TAG_BYTES + 2 + 2048) / 3) * 4;

export function isBitnamiSealedSecret(value: unknown): boolean {
  return isPlainObject(value) && value.apiVersion === BITNAMI_API_VERSION && value.kind === 'SealedSecret';
}

/**
 * Reads Bitnami sealing keys: PEM (one or more PKCS#1 / PKCS#8 RSA private keys), or a YAML/JSON
 * backup of the key Secrets (a Secret, several documents, or a v1 List) with `data["tls.key"]`.
 */
export function parseBitnamiPrivateKeys(text: string, source: string): KeyObject[] {
  const pems = text.includes('-----BEGIN') && !/^\s*(apiVersion|kind|items|\{)/m.test(text) ? pemBlocks(text) : pemsFromSecrets(text, source);
  if (pems.length === 0) throw keyError(SealErrorCode.KeyInvalid, `Bitnami key ${source}: no RSA private key found`, source);
  return pems.map((pem, i) => {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch {
      throw keyError(SealErrorCode.KeyInvalid, `Bitnami key ${source}: key #${i + 1} is not a valid PEM private key`, source);
    }
    if (key.asymmetricKeyType !== 'rsa') throw keyError(SealErrorCode.KeyInvalid, `Bitnami key ${source}: key #${i + 1} is not an RSA key`, source);
    return key;
  });
}

function pemBlocks(text: string): string[] {
  return [...text.matchAll(/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]*?-----END (RSA )?PRIVATE KEY-----/g)].map((m) => m[0]);
}

function pemsFromSecrets(text: string, source: string): string[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, undefined, { schema: yaml.JSON_SCHEMA });
  } catch {
    throw keyError(SealErrorCode.KeyInvalid, `Bitnami key ${source}: neither PEM nor a YAML/JSON key Secret`, source);
  }
  const secrets: unknown[] = [];
  for (const doc of docs) {
    if (isPlainObject(doc) && Array.isArray(doc.items)) secrets.push(...doc.items);
    else secrets.push(doc);
  }
  const pems: string[] = [];
  for (const secret of secrets) {
    if (!isPlainObject(secret) || !isPlainObject(secret.data)) continue;
    const tlsKey = secret.data['tls.key'];
    if (typeof tlsKey === 'string' && isStrictBase64(tlsKey)) pems.push(...pemBlocks(Buffer.from(tlsKey, 'base64').toString('utf8')));
  }
  return pems;
}

/** Bitnami's scope from the object's annotations; cluster-wide wins over namespace-wide. */
export function bitnamiScope(sealed: unknown): Scope {
  const annotations = isPlainObject(sealed) && isPlainObject(sealed.metadata) && isPlainObject(sealed.metadata.annotations) ? sealed.metadata.annotations : {};
  if (annotations[`${ANNOTATION_PREFIX}cluster-wide`] === 'true') return 'cluster-wide';
  if (annotations[`${ANNOTATION_PREFIX}namespace-wide`] === 'true') return 'namespace-wide';
  return 'strict';
}

function oaepLabel(scope: Scope, namespace: string, name: string): Buffer {
  switch (scope) {
    case 'strict':
      return Buffer.from(`${namespace}/${name}`, 'utf8');
    case 'namespace-wide':
      return Buffer.from(namespace, 'utf8');
    case 'cluster-wide':
      return Buffer.alloc(0);
  }
}

function unsupported(ref: string, path: string, what: string): SealError {
  return new SealError(SealErrorCode.BitnamiUnsupported, `Bitnami SealedSecret ${ref}: ${what} is not supported`, { object: ref, location: { path } });
}

export function unsealBitnamiSealedSecret(sealed: unknown, keys: readonly KeyObject[], options: { namespace?: string } = {}): Secret {
  const c: Checker = new Checker(SealErrorCode.InvalidSealedSecret, 'Bitnami SealedSecret');
  const obj = c.object(sealed, '(document)');
  if (!isBitnamiSealedSecret(obj)) c.fail('apiVersion', `must be ${BITNAMI_API_VERSION} with kind SealedSecret`);
  const meta = c.object(obj.metadata, 'metadata');
  const name = c.name(meta.name, 'metadata.name');
  const namespace = meta.namespace !== undefined ? c.namespace(meta.namespace, 'metadata.namespace') : options.namespace;
  const scope = bitnamiScope(obj);
  if (namespace === undefined && scope !== 'cluster-wide') c.fail('metadata.namespace', `is required for scope ${scope}`);
  const ref = objectRef(namespace, name);

  const spec = c.object(obj.spec, 'spec');
  if (spec.data !== undefined && spec.data !== null) throw unsupported(ref, 'spec.data', 'the deprecated v1 spec.data format');
  const template = c.optionalObject(spec.template, 'spec.template') ?? {};
  const templateData = c.optionalObject(template.data, 'spec.template.data');
  if (templateData && Object.keys(templateData).length > 0) throw unsupported(ref, 'spec.template.data', 'spec.template.data (Go templates)');
  const tmeta = c.optionalObject(template.metadata, 'spec.template.metadata') ?? {};
  let immutable: boolean | undefined;
  if (template.immutable !== undefined && template.immutable !== null) {
    if (typeof template.immutable !== 'boolean') c.fail('spec.template.immutable', 'must be a boolean');
    immutable = template.immutable;
  }

  const label = oaepLabel(scope, namespace ?? '', name);
  const values = new Map<string, Uint8Array>();
  try {
    for (const [dataKey, value] of Object.entries(c.object(spec.encryptedData, 'spec.encryptedData'))) {
      c.dataKey(dataKey, `spec.encryptedData.${dataKey}`);
      values.set(dataKey, hybridDecrypt(c.string(value, `spec.encryptedData.${dataKey}`), keys, label, { ref, dataKey, scope }));
    }
    return buildSecret({
      name,
      namespace,
      type: template.type === undefined || template.type === null ? DEFAULT_SECRET_TYPE : c.secretType(template.type, 'spec.template.type'),
      immutable,
      labels: c.stringMap(tmeta.labels, 'spec.template.metadata.labels'),
      annotations: c.stringMap(tmeta.annotations, 'spec.template.metadata.annotations'),
      values,
    });
  } finally {
    for (const v of values.values()) v.fill(0);
  }
}

function hybridDecrypt(encoded: string, keys: readonly KeyObject[], label: Buffer, at: { ref: string; dataKey: string; scope: Scope }): Uint8Array {
  const where = `Bitnami SealedSecret ${at.ref} data key "${at.dataKey}"`;
  const detail = { object: at.ref, dataKey: at.dataKey };
  if (encoded.length > MAX_BITNAMI_BASE64_CHARS) throw new SealError(SealErrorCode.ValueTooLarge, `${where}: value is larger than the ${MAX_VALUE_BYTES}-byte limit`, detail);
  if (!isStrictBase64(encoded)) throw new SealError(SealErrorCode.Truncated, `${where}: value is not valid base64 (truncated or corrupted)`, detail);
  const bytes = Buffer.from(encoded, 'base64');
  const rsaLength = bytes.length >= 2 ? bytes.readUInt16BE(0) : 0;
  if (bytes.length < 2 + rsaLength + GCM_TAG_BYTES || rsaLength === 0) {
    throw new SealError(SealErrorCode.Truncated, `${where}: value is truncated`, detail);
  }
  const rsaCt = bytes.subarray(2, 2 + rsaLength);
  let sessionKey: Buffer | undefined;
  for (const key of keys) {
    try {
      sessionKey = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, rsaCt);
      break;
    } catch {
      // not this key (or not this label): Bitnami values carry no key id, so try the next
    }
  }
  if (!sessionKey) {
    throw new SealError(
      SealErrorCode.BitnamiNoKeyCouldDecrypt,
      `${where}: no key could decrypt the value (wrong key, or sealed for another scope/namespace/name than ${at.scope})`,
      detail,
    );
  }
  if (sessionKey.length !== AES_KEY_BYTES) throw new SealError(SealErrorCode.Tampered, `${where}: session key has the wrong length`, detail);
  const body = bytes.subarray(2 + rsaLength);
  try {
    const decipher = createDecipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
    decipher.setAuthTag(body.subarray(body.length - GCM_TAG_BYTES));
    const plain = Buffer.concat([decipher.update(body.subarray(0, body.length - GCM_TAG_BYTES)), decipher.final()]);
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
  } catch {
    throw new SealError(SealErrorCode.Tampered, `${where}: value failed AES-GCM authentication (modified or corrupted)`, detail);
  } finally {
    sessionKey.fill(0);
  }
}

/** `syncgate seal --from-bitnami`: open with Bitnami keys, seal to ours; keeps the Bitnami scope unless told otherwise. */
export function convertBitnamiSealedSecret(
  sealed: unknown,
  bitnamiKeys: readonly KeyObject[],
  publicKey: SealingPublicKey,
  options: { scope?: Scope; namespace?: string } = {},
): SealedSecret {
  const secret = unsealBitnamiSealedSecret(sealed, bitnamiKeys, options);
  // Bitnami's own annotations steer its controller only; they mean nothing to ours.
  const annotations = Object.entries(secret.metadata.annotations ?? {}).filter(([k]) => !k.startsWith(ANNOTATION_PREFIX));
  if (annotations.length > 0) secret.metadata.annotations = Object.fromEntries(annotations);
  else delete secret.metadata.annotations;
  try {
    return sealSecret(secret, publicKey, { scope: options.scope ?? bitnamiScope(sealed), allowEmpty: true });
  } finally {
    for (const key of Object.keys(secret.data)) secret.data[key] = '';
  }
}
