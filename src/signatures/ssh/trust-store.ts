/**
 * SSH trust material: the allowed_signers entries of every configured file (in order) and the
 * revoked keys, indexed by plain key blob. Immutable once built; reloading builds a new store.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../errors.js';
import { type AllowedSigner, type ParseAllowedSignersOptions, parseAllowedSigners } from './allowed-signers.js';
import { type RevokedKey, parseRevokedKeys } from './revoked-keys.js';

const MAX_FILE_BYTES = 16 * 1024 * 1024;
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

async function readTrustFile(path: string, code: string, what: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ConfigError(code, `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { file: path }, { cause: err });
  }
  if (bytes.length > MAX_FILE_BYTES) throw new ConfigError(code, `${what} ${path} is larger than ${MAX_FILE_BYTES} bytes`, { file: path });
  if (PRIVATE_KEY.test(bytes.toString('latin1'))) {
    throw new ConfigError(code, `${what} ${path} contains private key material; only public keys belong in trust material`, { file: path });
  }
  return bytes;
}

export interface SshTrustFiles {
  allowedSigners: readonly string[];
  revokedKeys: readonly string[];
}

export interface SshTrustContents {
  allowedSigners: Array<{ file: string; bytes: Buffer }>;
  revokedKeys: Array<{ file: string; bytes: Buffer }>;
  /** SHA-256 over every file's name and bytes, to tell a real change from a touch. */
  digest: string;
}

/** Reads the files (bounded, no private keys). Throws ConfigError naming the file. */
export async function readSshTrustFiles(files: SshTrustFiles): Promise<SshTrustContents> {
  const hash = createHash('sha256');
  const read = async (list: readonly string[], code: string, what: string): Promise<Array<{ file: string; bytes: Buffer }>> => {
    const out: Array<{ file: string; bytes: Buffer }> = [];
    for (const file of list) {
      const bytes = await readTrustFile(file, code, what);
      hash.update(`${what}\0${file}\0${bytes.length}\0`).update(bytes);
      out.push({ file, bytes });
    }
    return out;
  };
  const allowedSigners = await read(files.allowedSigners, 'ALLOWED_SIGNERS_UNREADABLE', 'allowed signers file');
  const revokedKeys = await read(files.revokedKeys, 'SSH_REVOKED_KEYS_UNREADABLE', 'SSH revoked keys file');
  return { allowedSigners, revokedKeys, digest: hash.digest('hex') };
}

export class SshTrustStore {
  private readonly plain = new Map<string, AllowedSigner[]>();
  private readonly authorities = new Map<string, AllowedSigner[]>();
  private readonly revokedBlobs = new Map<string, RevokedKey>();

  constructor(
    readonly signers: readonly AllowedSigner[],
    readonly revoked: readonly RevokedKey[] = [],
    /** Invalid allowed_signers lines skipped under invalidLines "skip" (report them). */
    readonly warnings: readonly ConfigError[] = [],
  ) {
    for (const s of signers) {
      const index = s.certAuthority ? this.authorities : this.plain;
      const k = s.key.blob.toString('base64');
      index.set(k, [...(index.get(k) ?? []), s]);
    }
    for (const r of revoked) this.revokedBlobs.set(r.blob.toString('base64'), r);
  }

  static empty(): SshTrustStore {
    return new SshTrustStore([], []);
  }

  /** Reads every allowed_signers file and revoked-keys file. Throws ConfigError naming the file (and line). */
  static async fromFiles(allowedSigners: readonly string[], revokedKeys: readonly string[] = [], options: Pick<ParseAllowedSignersOptions, 'invalidLines'> = {}): Promise<SshTrustStore> {
    return SshTrustStore.fromContents(await readSshTrustFiles({ allowedSigners, revokedKeys }), options);
  }

  /** Builds a store from file contents already read (see readSshTrustFiles). Throws ConfigError. */
  static fromContents(contents: SshTrustContents, options: Pick<ParseAllowedSignersOptions, 'invalidLines'> = {}): SshTrustStore {
    const signers: AllowedSigner[] = [];
    const warnings: ConfigError[] = [];
    for (const { file, bytes } of contents.allowedSigners) signers.push(...parseAllowedSigners(bytes.toString('utf8'), file, { ...options, warnings }));
    const revoked: RevokedKey[] = [];
    for (const { file, bytes } of contents.revokedKeys) revoked.push(...parseRevokedKeys(bytes, file));
    return new SshTrustStore(signers, revoked, warnings);
  }

  /** Entries listing this plain key as a signer (not cert-authority). */
  signersFor(blob: Buffer): readonly AllowedSigner[] {
    return this.plain.get(blob.toString('base64')) ?? [];
  }

  /** cert-authority entries for this CA key. */
  authoritiesFor(blob: Buffer): readonly AllowedSigner[] {
    return this.authorities.get(blob.toString('base64')) ?? [];
  }

  revokedEntry(blob: Buffer): RevokedKey | undefined {
    return this.revokedBlobs.get(blob.toString('base64'));
  }
}
