import { SealErrorCode, keyError } from './errors.js';
import { readPrivateKeyFile, type SealingKey } from './keys.js';

/**
 * Every key decrypts; the newest (by its recorded creation time) seals. Mutable so a key
 * source (files, a Kubernetes watch) can add and remove keys without a restart.
 */
export class SealingKeyring {
  private readonly byId = new Map<string, SealingKey>();

  constructor(keys: Iterable<SealingKey> = []) {
    for (const key of keys) this.add(key);
  }

  static async fromFiles(paths: readonly string[]): Promise<SealingKeyring> {
    const keys = await Promise.all(paths.map((p) => readPrivateKeyFile(p)));
    return new SealingKeyring(keys);
  }

  /** Adding the same key again is a no-op; a different key with a colliding id is refused. */
  add(key: SealingKey): void {
    const existing = this.byId.get(key.keyId);
    if (existing) {
      if (Buffer.compare(existing.raw, key.raw) !== 0) {
        throw keyError(SealErrorCode.DuplicateKey, `two different sealing keys share key id ${key.keyId}`);
      }
      return;
    }
    this.byId.set(key.keyId, key);
  }

  remove(keyId: string): boolean {
    return this.byId.delete(keyId);
  }

  get(keyId: string): SealingKey | undefined {
    return this.byId.get(keyId);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Newest first; undated keys last. */
  keys(): SealingKey[] {
    return [...this.byId.values()].sort((a, b) => (b.created?.getTime() ?? -Infinity) - (a.created?.getTime() ?? -Infinity));
  }

  /** The key that seals. Refuses to guess when the newest is not unique. */
  active(): SealingKey {
    const [first, second] = this.keys();
    if (!first) throw keyError(SealErrorCode.NoKeys, 'no sealing keys are loaded');
    if (second && (second.created?.getTime() ?? -Infinity) === (first.created?.getTime() ?? -Infinity)) {
      throw keyError(
        SealErrorCode.AmbiguousActiveKey,
        `cannot choose the sealing key: keys ${first.keyId} and ${second.keyId} have the same creation time (${first.created?.toISOString() ?? 'none recorded'})`,
      );
    }
    return first;
  }
}
