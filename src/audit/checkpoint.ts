import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AuditError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';

/**
 * Signed checkpoints (docs/audit.md §4): an Ed25519 signature over a short text statement of
 * (log id, seq, head hash, time). Whoever can rewrite the log file cannot make a new valid
 * checkpoint without the private key, so a rewritten or truncated log is detectable, and a copy
 * of the checkpoints kept elsewhere (the mirror) shows how far the log reached.
 */
export interface Checkpoint {
  logId: string;
  /** The seq of the last record the checkpoint covers (the record just before it). */
  seq: number;
  /** The hash of that record (the chain head). */
  head: string;
  time: string;
  keyId: string;
  /** base64 Ed25519 signature over checkpointStatement(...). */
  signature: string;
}

export const MIRROR_KIND = 'syncgate.audit.checkpoint';

export function checkpointStatement(c: Pick<Checkpoint, 'logId' | 'seq' | 'head' | 'time'>): string {
  return `syncgate audit checkpoint v1\nlog ${c.logId}\nseq ${c.seq}\nhead ${c.head}\ntime ${c.time}\n`;
}

function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

/** First 16 hex digits of sha256 over the raw 32-byte Ed25519 public key. */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 16);
}

export function signCheckpoint(key: KeyObject, fields: Pick<Checkpoint, 'logId' | 'seq' | 'head' | 'time'>): Checkpoint {
  const signature = sign(null, Buffer.from(checkpointStatement(fields), 'utf8'), key).toString('base64');
  return { logId: fields.logId, seq: fields.seq, head: fields.head, time: fields.time, keyId: keyIdOf(key), signature };
}

/** Checks the shape of an untrusted checkpoint object; returns what is wrong, or undefined. */
export function checkpointShapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'the checkpoint is not an object';
  const c = value as Record<string, unknown>;
  if (typeof c.logId !== 'string') return 'the checkpoint has no logId';
  if (!Number.isSafeInteger(c.seq) || (c.seq as number) < 0) return 'the checkpoint has no valid seq';
  if (typeof c.head !== 'string' || !/^[0-9a-f]{64}$/.test(c.head)) return 'the checkpoint has no valid head';
  if (typeof c.time !== 'string' || Number.isNaN(Date.parse(c.time))) return 'the checkpoint has no valid time';
  if (typeof c.keyId !== 'string') return 'the checkpoint has no keyId';
  if (typeof c.signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(c.signature)) return 'the checkpoint has no valid signature';
  return undefined;
}

/** True when the signature verifies with `publicKey`. Never throws. */
export function checkpointSignatureValid(publicKey: KeyObject, c: Checkpoint): boolean {
  try {
    return verify(null, Buffer.from(checkpointStatement(c), 'utf8'), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new AuditError('AUDIT_KEY_UNREADABLE', `${file}: cannot read the audit key (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file });
  }
}

/** Loads the Ed25519 private key that signs checkpoints (PKCS#8 PEM). */
export async function loadSigningKey(file: string): Promise<KeyObject> {
  const pem = await readKeyFile(file);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new AuditError('AUDIT_KEY_INVALID', `${file}: not a PEM private key`, { file });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new AuditError('AUDIT_KEY_INVALID', `${file}: the audit signing key must be Ed25519, not ${key.asymmetricKeyType}`, { file });
  return key;
}

/** Loads a public key to verify checkpoints with (SPKI PEM; a private key file also works). */
export async function loadVerifyKey(file: string): Promise<KeyObject> {
  const pem = await readKeyFile(file);
  let key: KeyObject;
  try {
    key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  } catch {
    throw new AuditError('AUDIT_KEY_INVALID', `${file}: not a PEM public key`, { file });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new AuditError('AUDIT_KEY_INVALID', `${file}: the audit key must be Ed25519, not ${key.asymmetricKeyType}`, { file });
  return key;
}

/** Creates DIR/audit-signing.key (0600) and DIR/audit-signing.pub; never overwrites. */
export async function generateSigningKey(dir: string): Promise<{ privateKeyFile: string; publicKeyFile: string; keyId: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const privateKeyFile = path.join(dir, 'audit-signing.key');
  const publicKeyFile = path.join(dir, 'audit-signing.pub');
  try {
    await writeFile(privateKeyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    await writeFile(publicKeyFile, publicKey.export({ format: 'pem', type: 'spki' }), { mode: 0o644, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'EEXIST') throw new AuditError('AUDIT_KEY_EXISTS', `${dir}: an audit key already exists there; refusing to overwrite it`, { file: dir });
    throw new AuditError('AUDIT_KEY_UNWRITABLE', `${dir}: cannot write the audit key (${code})`, { file: dir });
  }
  return { privateKeyFile, publicKeyFile, keyId: keyIdOf(publicKey) };
}

/** A second place checkpoints are copied to. Failures are reported, not fatal. */
export interface CheckpointMirror {
  write(checkpoint: Checkpoint): Promise<void>;
  close(): Promise<void>;
}

export const mirrorLine = (c: Checkpoint) => `${canonicalJson({ kind: MIRROR_KIND, ...c })}\n`;

/** Appends checkpoints as JSON lines to a file (fsync'd). */
export function fileMirror(file: string): CheckpointMirror {
  let handle: FileHandle | undefined;
  return {
    async write(c) {
      if (!handle) {
        await mkdir(path.dirname(file), { recursive: true });
        handle = await open(file, 'a', 0o640);
      }
      await handle.write(mirrorLine(c));
      await handle.datasync();
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
}

/** Writes checkpoints as JSON lines to a stream (stdout: the cluster's log pipeline). */
export function streamMirror(stream: NodeJS.WritableStream = process.stdout): CheckpointMirror {
  return {
    write: (c) =>
      new Promise((resolve, reject) => {
        stream.write(mirrorLine(c), (err) => (err ? reject(err) : resolve()));
      }),
    close: async () => {},
  };
}
