import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { SealErrorCode, keyError } from './errors.js';
import { generateX25519, publicKeyFromRaw, rawPublicKey } from './nacl-box.js';

/** X25519 sealing keys, their ids and their file format (docs/sealing.md §2). */

export const KEY_ID_BYTES = 8;

export function keyIdOf(rawPublic: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(rawPublic).digest().subarray(0, KEY_ID_BYTES));
}

export class SealingPublicKey {
  readonly keyIdBytes: Uint8Array;
  readonly raw: Uint8Array;

  constructor(
    readonly publicKey: KeyObject,
    readonly created: Date | undefined,
  ) {
    this.raw = rawPublicKey(publicKey);
    this.keyIdBytes = keyIdOf(this.raw);
  }

  /** 16 lowercase hex digits. */
  get keyId(): string {
    return Buffer.from(this.keyIdBytes).toString('hex');
  }

  static fromRaw(raw: Uint8Array, created?: Date): SealingPublicKey {
    return new SealingPublicKey(publicKeyFromRaw(raw), created);
  }
}

export class SealingKey extends SealingPublicKey {
  constructor(
    readonly privateKey: KeyObject,
    created: Date | undefined,
  ) {
    super(createPublicKey(privateKey), created);
  }

  get public(): SealingPublicKey {
    return new SealingPublicKey(this.publicKey, this.created);
  }

  // Keep key material out of console.log / util.inspect / JSON logs.
  [inspect.custom](): string {
    return `SealingKey { keyId: '${this.keyId}', created: ${this.created?.toISOString() ?? 'unknown'} }`;
  }

  toJSON(): { keyId: string; created: string | undefined } {
    return { keyId: this.keyId, created: this.created?.toISOString() };
  }
}

export function generateSealingKey(now: Date = new Date()): SealingKey {
  const { privateKey } = generateX25519();
  // Millisecond precision is what the file records; keep the in-memory key equal to a reloaded one.
  return new SealingKey(privateKey, new Date(now.getTime()));
}

function headerLines(title: string, key: SealingPublicKey): string {
  const lines = [`# ${title}`, `# key-id: ${key.keyId}`];
  if (key.created) lines.push(`# created: ${key.created.toISOString()}`);
  return lines.join('\n') + '\n';
}

export function formatPrivateKey(key: SealingKey): string {
  const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return headerLines('syncgate sealing private key', key) + pem;
}

export function formatPublicKey(key: SealingPublicKey): string {
  const pem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return headerLines('syncgate sealing public key', key) + pem;
}

interface ParsedText {
  pem: string;
  headers: Map<string, string>;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function splitKeyText(text: string, wanted: 'PRIVATE KEY' | 'PUBLIC KEY', source: string): ParsedText {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw keyError(SealErrorCode.KeyInvalid, `sealing key ${source}: no PEM block found`, source);
  if (blocks.length > 1) throw keyError(SealErrorCode.KeyInvalid, `sealing key ${source}: expected exactly one PEM block, found ${blocks.length}`, source);
  const block = blocks[0]!;
  const label = block[1]!;
  if (label !== wanted) {
    const hint = label.includes('PRIVATE') && wanted === 'PUBLIC KEY' ? ' (this is a private key; give the public key file)' : '';
    throw keyError(SealErrorCode.KeyInvalid, `sealing key ${source}: expected a "${wanted}" PEM block, found "${label}"${hint}`, source);
  }
  const headers = new Map<string, string>();
  for (const line of text.slice(0, block.index).split(/\r?\n/)) {
    const m = /^#\s*([a-z][a-z0-9-]*)\s*:\s*(.*?)\s*$/i.exec(line);
    if (m) headers.set(m[1]!.toLowerCase(), m[2]!);
  }
  return { pem: block[0], headers };
}

function parseCreated(headers: Map<string, string>, source: string): Date | undefined {
  const value = headers.get('created');
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(date.getTime())) {
    throw keyError(SealErrorCode.KeyInvalid, `sealing key ${source}: "created" header is not an ISO 8601 timestamp`, source);
  }
  return date;
}

function checkKeyId(key: SealingPublicKey, headers: Map<string, string>, source: string): void {
  const declared = headers.get('key-id');
  if (declared !== undefined && declared.toLowerCase() !== key.keyId) {
    throw keyError(SealErrorCode.KeyIdMismatch, `sealing key ${source}: header key-id ${declared} does not match the key (its id is ${key.keyId})`, source);
  }
}

function requireX25519(key: KeyObject, source: string): void {
  if (key.asymmetricKeyType !== 'x25519') {
    throw keyError(SealErrorCode.KeyInvalid, `sealing key ${source}: expected an X25519 key, found ${key.asymmetricKeyType ?? 'unknown'}`, source);
  }
}

/** `source` names where the text came from (a file path, a Secret) for error messages. */
export function parsePrivateKey(text: string, source: string): SealingKey {
  const { pem, headers } = splitKeyText(text, 'PRIVATE KEY', source);
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw keyError(SealErrorCode.KeyInvalid, `sealing key ${source}: not a valid PKCS#8 private key`, source);
  }
  requireX25519(keyObject, source);
  const key = new SealingKey(keyObject, parseCreated(headers, source));
  checkKeyId(key, headers, source);
  return key;
}

export function parsePublicKey(text: string, source: string): SealingPublicKey {
  const { pem, headers } = splitKeyText(text, 'PUBLIC KEY', source);
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw keyError(SealErrorCode.KeyInvalid, `sealing key ${source}: not a valid SPKI public key`, source);
  }
  requireX25519(keyObject, source);
  const key = new SealingPublicKey(keyObject, parseCreated(headers, source));
  checkKeyId(key, headers, source);
  return key;
}

async function readKeyText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw keyError(SealErrorCode.KeyReadFailed, `cannot read sealing key file ${path}: ${code}`, path);
  }
}

export async function readPrivateKeyFile(path: string): Promise<SealingKey> {
  return parsePrivateKey(await readKeyText(path), path);
}

export async function readPublicKeyFile(path: string): Promise<SealingPublicKey> {
  return parsePublicKey(await readKeyText(path), path);
}

/** Writes `sealing-<keyId>.key` (mode 0600) and `.pub`; never overwrites an existing file. */
export async function writeKeyFiles(key: SealingKey, dir: string): Promise<{ privateKeyPath: string; publicKeyPath: string }> {
  const privateKeyPath = join(dir, `sealing-${key.keyId}.key`);
  const publicKeyPath = join(dir, `sealing-${key.keyId}.pub`);
  await writeFile(privateKeyPath, formatPrivateKey(key), { mode: 0o600, flag: 'wx' });
  await writeFile(publicKeyPath, formatPublicKey(key), { mode: 0o644, flag: 'wx' });
  return { privateKeyPath, publicKeyPath };
}
