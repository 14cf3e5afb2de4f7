import { mkdtemp, readFile, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { GENESIS_HASH, recordHash, type AuditRecord } from '../../src/audit/record.js';

async function tempLog(): Promise<string> {
  return path.join(await mkdtemp(path.join(tmpdir(), 'syncgate-audit-')), 'sub', 'audit.jsonl');
}

async function readRecords(file: string): Promise<AuditRecord[]> {
  return (await readFile(file, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditRecord);
}

describe('AuditLog', () => {
  it('appends hash-chained records with consecutive sequence numbers', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    await log.append({ type: 'decision', decisionId: 'a', outcome: 'allow' });
    await log.append({ type: 'decision', decisionId: 'b', outcome: 'deny' });
    await log.close();

    const records = await readRecords(file);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(records[0]!.prevHash).toBe(GENESIS_HASH);
    expect(records[1]!.prevHash).toBe(records[0]!.hash);
    for (const r of records) {
      const { hash, ...rest } = r;
      expect(recordHash(rest)).toBe(hash);
    }
  });

  it('continues the chain after reopening', async () => {
    const file = await tempLog();
    const first = await AuditLog.open(file);
    const r1 = await first.append({ type: 'decision', decisionId: 'a' });
    await first.close();
    const second = await AuditLog.open(file);
    const r2 = await second.append({ type: 'decision', decisionId: 'b' });
    await second.close();
    expect(r2.seq).toBe(2);
    expect(r2.prevHash).toBe(r1.hash);
  });

  it('writes concurrent appends in one ordered chain (group commit)', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append({ type: 'decision', decisionId: String(i) })));
    await log.close();
    expect(new Set(results.map((r) => r.seq)).size).toBe(200);
    const records = await readRecords(file);
    expect(records).toHaveLength(200);
    records.forEach((r, i) => {
      expect(r.seq).toBe(i + 1);
      expect(r.prevHash).toBe(i === 0 ? GENESIS_HASH : records[i - 1]!.hash);
    });
  });

  it('refuses to open a log whose last record was edited', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    await log.append({ type: 'decision', decisionId: 'a', outcome: 'deny' });
    await log.close();
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"deny"', '"allow"'));
    await expect(AuditLog.open(file)).rejects.toMatchObject({ code: 'AUDIT_LOG_CORRUPT' });
  });

  it('refuses to open a log with a torn last line', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    await log.append({ type: 'decision', decisionId: 'a' });
    await log.close();
    await appendFile(file, '{"type":"decision","seq":2');
    await expect(AuditLog.open(file)).rejects.toMatchObject({ code: 'AUDIT_LOG_TORN' });
  });

  it('rejects appends after close and reports an unopenable path', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    await log.close();
    await expect(log.append({ type: 'decision' })).rejects.toMatchObject({ code: 'AUDIT_CLOSED' });
    // A directory path that runs through a regular file cannot be created.
    await expect(AuditLog.open(path.join(file, 'nested', 'audit.jsonl'))).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  });
});
