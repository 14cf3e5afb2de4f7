/**
 * Trusted OpenPGP public keys. Every armor block of every file is read (GitHub's web-flow key file
 * holds two blocks; openpgp.readKeys would silently return only the first). Keys are indexed by the
 * fingerprints and key ids of the primary key and of every subkey.
 */
import { readFile } from 'node:fs/promises';
import type * as pgp from 'openpgp';
import { ConfigError } from '../errors.js';
import { openpgp } from './openpgp-lib.js';

/** One key packet (primary or subkey) of a trusted key. */
export interface KeyringEntry {
  key: pgp.PublicKey;
  /** The primary key packet or the subkey packet that matched. */
  keyPacket: pgp.PublicKeyPacket | pgp.PublicSubkeyPacket;
  /** Upper-case hex fingerprint of `keyPacket`. */
  fingerprint: string;
  primaryFingerprint: string;
  /** 16 upper-case hex digits. */
  keyId: string;
  isSubkey: boolean;
  /** The file (or label) the key was loaded from. */
  source: string;
}

const KEY_BLOCK = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g;

/** Splits a text into its public-key armor blocks. */
export function splitKeyBlocks(text: string): string[] {
  return text.match(KEY_BLOCK) ?? [];
}

export class Keyring {
  private readonly byFingerprint = new Map<string, KeyringEntry>();
  private readonly byKeyId = new Map<string, KeyringEntry[]>();
  private readonly keyList: pgp.PublicKey[] = [];

  /** Reads key files (armored, possibly several blocks, or binary). Throws ConfigError naming the file. */
  static async fromFiles(paths: readonly string[]): Promise<Keyring> {
    const ring = new Keyring();
    for (const path of paths) {
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (err) {
        throw new ConfigError('KEYRING_UNREADABLE', `cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { file: path }, { cause: err });
      }
      await ring.addKeyData(bytes, path);
    }
    return ring;
  }

  /** Builds a keyring from in-memory armored texts (each may hold several blocks). */
  static async fromArmored(sources: ReadonlyArray<{ source: string; armored: string }>): Promise<Keyring> {
    const ring = new Keyring();
    for (const { source, armored } of sources) await ring.addKeyData(Buffer.from(armored, 'utf8'), source);
    return ring;
  }

  async addKeyData(bytes: Buffer, source: string): Promise<void> {
    const text = bytes.toString('latin1');
    if (text.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----')) {
      throw new ConfigError('KEYRING_INVALID', `key file ${source} contains private key material; only public keys belong in trust material`, { file: source });
    }
    const blocks = splitKeyBlocks(text);
    const keys: pgp.PublicKey[] = [];
    try {
      if (blocks.length > 0) {
        for (const armoredKeys of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys })));
      } else if (bytes.length > 0 && ((bytes[0] as number) & 0x80) !== 0) {
        keys.push(...(await openpgp.readKeys({ binaryKeys: new Uint8Array(bytes) })));
      } else {
        throw new Error('no PGP PUBLIC KEY BLOCK found');
      }
    } catch (err) {
      throw new ConfigError('KEYRING_INVALID', `invalid OpenPGP key file ${source}: ${(err as Error).message}`, { file: source }, { cause: err });
    }
    if (keys.some((k) => k.isPrivate())) {
      throw new ConfigError('KEYRING_INVALID', `key file ${source} contains private key material; only public keys belong in trust material`, { file: source });
    }
    if (keys.length === 0) throw new ConfigError('KEYRING_INVALID', `key file ${source} holds no key`, { file: source });
    for (const key of keys) this.addKey(key, source);
  }

  private addKey(key: pgp.PublicKey, source: string): void {
    const primaryFingerprint = key.getFingerprint().toUpperCase();
    if (this.byFingerprint.has(primaryFingerprint)) {
      throw new ConfigError('KEYRING_DUPLICATE_KEY', `key ${primaryFingerprint} is loaded twice (again from ${source}); merge the copies into one file`, { file: source });
    }
    this.keyList.push(key);
    const packets: Array<{ packet: pgp.PublicKeyPacket | pgp.PublicSubkeyPacket; isSubkey: boolean }> = [
      { packet: key.keyPacket as pgp.PublicKeyPacket, isSubkey: false },
      ...key.subkeys.map((s) => ({ packet: s.keyPacket as pgp.PublicSubkeyPacket, isSubkey: true })),
    ];
    for (const { packet, isSubkey } of packets) {
      const entry: KeyringEntry = {
        key,
        keyPacket: packet,
        fingerprint: packet.getFingerprint().toUpperCase(),
        primaryFingerprint,
        keyId: packet.getKeyID().toHex().toUpperCase(),
        isSubkey,
        source,
      };
      this.byFingerprint.set(entry.fingerprint, entry);
      const list = this.byKeyId.get(entry.keyId) ?? [];
      list.push(entry);
      this.byKeyId.set(entry.keyId, list);
    }
  }

  get keys(): readonly pgp.PublicKey[] {
    return this.keyList;
  }

  get size(): number {
    return this.keyList.length;
  }

  findByFingerprint(fingerprint: string): KeyringEntry | undefined {
    return this.byFingerprint.get(fingerprint.toUpperCase());
  }

  /** Every key packet with this 16-hex key id (collisions are possible: all are returned). */
  findByKeyId(keyId: string): readonly KeyringEntry[] {
    return this.byKeyId.get(keyId.toUpperCase()) ?? [];
  }
}

/** Loads every armor block of every key file. Throws ConfigError naming the bad file. */
export function loadKeyring(paths: readonly string[]): Promise<Keyring> {
  return Keyring.fromFiles(paths);
}
