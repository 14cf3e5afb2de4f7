import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog, type AuditLogOptions } from '../../src/audit/log.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { nodeFileSystem, type AppendFile, type AuditFileSystem } from '../../src/audit/writer.js';

export async function tempDir(prefix = 'syncgate-audit-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function readRecords(file: string): Promise<AuditRecord[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditRecord);
}

export function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** A decision event with the fields the gate writes. */
export function decision(i: number, over: Record<string, unknown> = {}) {
  return {
    type: 'decision',
    decisionId: `d-${i}`,
    caller: { identity: 'argocd', remoteAddress: '127.0.0.1' },
    outcome: i % 3 === 0 ? 'deny' : 'allow',
    allowed: i % 3 !== 0,
    reasons: i % 3 === 0 ? [{ code: 'BAD_SIGNATURE', message: 'not signed' }] : [],
    repository: `https://git.example/r${i % 2}.git`,
    revision: 'a'.repeat(40),
    application: { name: `app${i}`, namespace: 'argocd' },
    signer: { method: 'openpgp', fingerprint: 'F'.repeat(40) },
    requestDigest: `sha256:${'b'.repeat(64)}`,
    ...over,
  };
}

/** Writes `count` decisions to a new log and closes it. */
export async function writeLog(file: string, count: number, options: AuditLogOptions = {}): Promise<AuditRecord[]> {
  const log = await AuditLog.open(file, options);
  const out: AuditRecord[] = [];
  for (let i = 1; i <= count; i++) out.push(await log.append(decision(i)));
  await log.close();
  return out;
}

/**
 * The real file system, its active file's operations forwarded one by one (they are methods of a
 * class, which a spread would not copy), with those `override` gives in their place.
 */
export function wrappedFs(override: (real: AppendFile) => Partial<AppendFile>, rest: Partial<AuditFileSystem> = {}): AuditFileSystem {
  return {
    ...nodeFileSystem,
    async openAppend(file) {
      const real = await nodeFileSystem.openAppend(file);
      return {
        durableAppends: real.durableAppends,
        append: (d: Buffer) => real.append(d),
        sync: () => real.sync(),
        truncate: (n: number) => real.truncate(n),
        size: () => real.size(),
        read: (p: number, l: number) => real.read(p, l),
        close: () => real.close(),
        ...override(real),
      };
    },
    ...rest,
  };
}
