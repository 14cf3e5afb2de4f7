import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import yaml from 'js-yaml';
import { ConfigError, InputError } from '../errors.js';
import { FileSealingKeySource } from '../kube/file-key-source.js';
import { type SealingKeyring, type SealingPublicKey, parsePublicKey, readPublicKeyFile } from '../secrets/index.js';

/** Shared input/output of the sealing commands (seal, reseal, unseal, keys generate). */

export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
const MAX_DOCUMENTS = 1000;
const MAX_KEY_ANSWER_BYTES = 64 * 1024;
const KEY_FETCH_TIMEOUT_MS = 10_000;

export type Format = 'yaml' | 'json';

export function checkFormat(value: string, flag = '--format'): Format {
  if (value !== 'yaml' && value !== 'json') throw new InputError('USAGE', `${flag} must be yaml or json, not ${value}`);
  return value;
}

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) throw new InputError('USAGE', 'no input: give --file FILE, or pipe a manifest to stdin');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT_BYTES) throw new InputError('INPUT_TOO_LARGE', `stdin: input is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads a file (or stdin when `file` is undefined or "-"), bounded. */
export async function readInput(file: string | undefined): Promise<{ bytes: Buffer; source: string }> {
  if (file === undefined || file === '-') return { bytes: await readStdin(), source: 'stdin' };
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new InputError('INPUT_UNREADABLE', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file });
  }
  if (bytes.length > MAX_INPUT_BYTES) throw new InputError('INPUT_TOO_LARGE', `${file}: larger than ${MAX_INPUT_BYTES} bytes`, { file });
  return { bytes, source: file };
}

/**
 * YAML (several documents allowed) or JSON; a `v1 List` is unpacked. Parse errors give the
 * position only: a Secret's text must not be quoted back.
 */
export function parseDocuments(bytes: Buffer, source: string): unknown[] {
  const text = bytes.toString('utf8');
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, undefined, { schema: yaml.CORE_SCHEMA }).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    const mark = (err as { mark?: { line?: number; column?: number } }).mark;
    const where = mark?.line !== undefined ? ` at line ${mark.line + 1}, column ${(mark.column ?? 0) + 1}` : '';
    throw new InputError('INPUT_INVALID', `${source}: not valid YAML or JSON${where}`, { file: source, ...(mark?.line !== undefined ? { line: mark.line + 1 } : {}) });
  }
  const out: unknown[] = [];
  for (const doc of docs) {
    const d = doc as { apiVersion?: unknown; kind?: unknown; items?: unknown };
    if (d && typeof d === 'object' && d.apiVersion === 'v1' && d.kind === 'List' && Array.isArray(d.items)) out.push(...d.items);
    else out.push(doc);
  }
  if (out.length === 0) throw new InputError('INPUT_EMPTY', `${source}: no manifest found`, { file: source });
  if (out.length > MAX_DOCUMENTS) throw new InputError('INPUT_TOO_LARGE', `${source}: more than ${MAX_DOCUMENTS} documents`, { file: source });
  return out;
}

export function formatDocuments(docs: readonly unknown[], format: Format): string {
  if (format === 'json') {
    const value = docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs };
    return `${JSON.stringify(value, null, 2)}\n`;
  }
  return docs.map((d) => yaml.dump(d, { lineWidth: -1, noRefs: true, sortKeys: false })).join('---\n');
}

/** The format a file is written in, so an in-place edit keeps it. */
export function detectFormat(bytes: Buffer): Format {
  return /^\s*[{[]/.test(bytes.toString('utf8')) ? 'json' : 'yaml';
}

/** Writes stdout, or a file atomically (temp file + rename) with the given mode. */
export async function writeOutput(text: string, file: string | undefined, mode = 0o644): Promise<void> {
  if (file === undefined || file === '-') {
    process.stdout.write(text);
    return;
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { mode, flag: 'wx' });
    await rename(tmp, file);
  } catch (err) {
    throw new InputError('OUTPUT_UNWRITABLE', `${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file });
  }
}

/** The gate's answer to GET /v1/sealing-key. */
export interface SealingKeyAnswer {
  keyId: string;
  created: string | null;
  publicKey: string;
}

export function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/** Bounded GET/POST of JSON; errors name the URL and the status, never a body. */
export async function fetchJson(url: string, init: { method?: string; body?: string } = {}, what = 'request'): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new ConfigError('GATE_UNREACHABLE', `${what}: cannot reach ${url} (${cause})`);
  }
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_KEY_ANSWER_BYTES) {
        await reader.cancel();
        throw new ConfigError('GATE_BAD_ANSWER', `${what}: the answer from ${url} is larger than ${MAX_KEY_ANSWER_BYTES} bytes`);
      }
      chunks.push(value);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConfigError('GATE_BAD_ANSWER', `${what}: ${url} answered HTTP ${res.status} without JSON`);
  }
  return { status: res.status, json };
}

/** `--key FILE|URL`: a public key file, or the gate's GET /v1/sealing-key. */
export async function loadPublicKey(key: string | undefined): Promise<SealingPublicKey> {
  if (key === undefined) throw new InputError('USAGE', 'give --key FILE (a public key file) or --key URL (the gate\'s /v1/sealing-key)');
  if (!isUrl(key)) return readPublicKeyFile(key);
  const { status, json } = await fetchJson(key, {}, 'fetching the sealing key');
  if (status !== 200) throw new ConfigError('GATE_BAD_ANSWER', `fetching the sealing key: ${key} answered HTTP ${status}`);
  const answer = json as Partial<SealingKeyAnswer>;
  if (typeof answer?.publicKey !== 'string' || typeof answer.keyId !== 'string') {
    throw new ConfigError('GATE_BAD_ANSWER', `fetching the sealing key: ${key} did not answer {keyId, created, publicKey}`);
  }
  const publicKey = parsePublicKey(answer.publicKey, key);
  if (publicKey.keyId !== answer.keyId.toLowerCase()) {
    throw new ConfigError('SEAL_KEY_ID_MISMATCH', `fetching the sealing key: ${key} announced key id ${answer.keyId} but sent key ${publicKey.keyId}`);
  }
  return publicKey;
}

/** Private keys for reseal/unseal: files and directories of `*.key`, loaded once. */
export async function loadPrivateKeys(files: readonly string[] = [], dirs: readonly string[] = []): Promise<SealingKeyring> {
  const paths = [...files, ...dirs];
  if (paths.length === 0) throw new InputError('USAGE', 'give --private-key FILE (repeatable) or --key-dir DIR');
  const source = new FileSealingKeySource({ paths, pollIntervalMs: 0 });
  await source.start();
  await source.stop();
  return source.keyring;
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
