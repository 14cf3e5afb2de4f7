import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSealingKeySource, type KeySourceReport } from '../../src/kube/index.js';
import { formatPrivateKey, formatPublicKey, generateSealingKey } from '../../src/secrets/index.js';

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('FileSealingKeySource', () => {
  let dir: string;
  let source: FileSealingKeySource | undefined;
  let reports: KeySourceReport[];
  const k1 = generateSealingKey(new Date('2025-01-01T00:00:00Z'));
  const k2 = generateSealingKey(new Date('2025-02-01T00:00:00Z'));

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'syncgate-keys-'));
    reports = [];
    source = undefined;
  });
  afterEach(async () => {
    await source?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (paths: string[], pollIntervalMs = 0, debounceMs = 20) => (source = new FileSealingKeySource({ paths, debounceMs, pollIntervalMs, onReport: (r) => reports.push(r) }));

  it('loads every *.key of a directory (skipping .pub, hidden and other files) and explicit files', async () => {
    writeFileSync(path.join(dir, 'a.key'), formatPrivateKey(k1));
    writeFileSync(path.join(dir, 'a.pub'), formatPublicKey(k1));
    writeFileSync(path.join(dir, '.hidden.key'), 'garbage');
    writeFileSync(path.join(dir, 'README'), 'garbage');
    const other = path.join(dir, 'sub');
    mkdirSync(other);
    writeFileSync(path.join(other, 'explicit.pem'), formatPrivateKey(k2));
    await make([dir, path.join(other, 'explicit.pem')]).start();
    expect(source!.keyring.keys().map((k) => k.keyId)).toEqual([k2.keyId, k1.keyId]);
    expect(source!.status().synced).toBe(true);
  });

  it('start() fails with the file named when a key file is malformed, or when there is no key at all', async () => {
    writeFileSync(path.join(dir, 'bad.key'), 'not a key');
    await expect(make([dir]).start()).rejects.toMatchObject({ code: 'SEAL_KEY_INVALID', location: { file: path.join(dir, 'bad.key') } });
    const empty = mkdtempSync(path.join(tmpdir(), 'syncgate-empty-'));
    try {
      await expect(make([empty]).start()).rejects.toMatchObject({ code: 'SEAL_NO_KEYS' });
      await expect(make([path.join(empty, 'missing')]).start()).rejects.toMatchObject({ code: 'SEAL_KEY_READ_FAILED' });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('picks up a new key file and a removed one without restart (file events)', async () => {
    writeFileSync(path.join(dir, 'a.key'), formatPrivateKey(k1));
    await make([dir]).start();
    writeFileSync(path.join(dir, 'b.key'), formatPrivateKey(k2));
    await until(() => source!.keyring.get(k2.keyId) !== undefined, 'k2');
    expect(source!.keyring.active().keyId).toBe(k2.keyId);
    unlinkSync(path.join(dir, 'a.key'));
    await until(() => source!.keyring.get(k1.keyId) === undefined, 'k1 removed');
    expect(reports.filter((r) => r.event === 'key-removed')).toEqual([{ event: 'key-removed', keyId: k1.keyId, from: path.join(dir, 'a.key') }]);
  });

  it('follows a Kubernetes Secret volume swap (..data symlink replaced atomically)', async () => {
    const v1 = path.join(dir, '..2025_01');
    mkdirSync(v1);
    writeFileSync(path.join(v1, 'sealing.key'), formatPrivateKey(k1));
    symlinkSync('..2025_01', path.join(dir, '..data'));
    symlinkSync('..data/sealing.key', path.join(dir, 'sealing.key'));
    await make([dir]).start();
    expect(source!.keyring.keys().map((k) => k.keyId)).toEqual([k1.keyId]);
    const v2 = path.join(dir, '..2025_02');
    mkdirSync(v2);
    writeFileSync(path.join(v2, 'sealing.key'), formatPrivateKey(k2));
    symlinkSync('..2025_02', path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    await until(() => source!.keyring.get(k2.keyId) !== undefined, 'k2 after the swap');
    expect(source!.keyring.get(k1.keyId)).toBeUndefined();
  });

  it('keeps the last good key when a file turns malformed, and every key when the directory vanishes', async () => {
    const file = path.join(dir, 'a.key');
    writeFileSync(file, formatPrivateKey(k1));
    await make([dir]).start();
    writeFileSync(file, 'truncated -----BEGIN PRIVATE KEY-----');
    await source!.reload();
    expect(source!.keyring.get(k1.keyId)).toBeDefined();
    expect(reports.find((r) => r.event === 'key-invalid')).toMatchObject({ from: file, code: 'SEAL_KEY_INVALID', keptPrevious: true });
    expect(source!.status().invalid).toHaveLength(1);

    rmSync(dir, { recursive: true, force: true });
    await source!.reload();
    expect(source!.keyring.get(k1.keyId)).toBeDefined();
    expect(source!.status().lastError?.code).toBe('SEAL_KEY_READ_FAILED');
    expect(reports.at(-1)).toMatchObject({ event: 'error', code: 'SEAL_KEY_READ_FAILED' });
  });

  it('a key held by two holders (two files, or a file and a Secret source on one keyring) stays until both let go', async () => {
    writeFileSync(path.join(dir, 'a.key'), formatPrivateKey(k1));
    writeFileSync(path.join(dir, 'copy.key'), formatPrivateKey(k1));
    await make([dir]).start();
    const second = new FileSealingKeySource({ paths: [path.join(dir, 'a.key')], keyring: source!.keyring, pollIntervalMs: 0 });
    await second.start();
    unlinkSync(path.join(dir, 'copy.key'));
    await source!.reload();
    expect(source!.keyring.get(k1.keyId)).toBeDefined();
    unlinkSync(path.join(dir, 'a.key'));
    await source!.reload();
    expect(source!.keyring.get(k1.keyId)).toBeDefined(); // the second source still holds it
    await second.reload();
    await second.stop();
    expect(source!.keyring.get(k1.keyId)).toBeDefined(); // a vanished explicit path keeps its keys
  });

  it('polling reloads an explicit file even when file events are slow to act on', async () => {
    const file = path.join(dir, 'a.key');
    writeFileSync(file, formatPrivateKey(k1));
    await make([file], 50, 600_000).start(); // events would wait ten minutes: only the poll can reload in time
    writeFileSync(path.join(dir, 'ignored.key'), formatPrivateKey(k2)); // not a watched path
    const explicit = path.join(dir, 'a.key');
    writeFileSync(explicit, formatPrivateKey(k2));
    await until(() => source!.keyring.get(k2.keyId) !== undefined, 'k2 by polling');
    expect(source!.keyring.size).toBe(1);
  });
});
