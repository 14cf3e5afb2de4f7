import { constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, writeFile, appendFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { GENESIS_HASH, recordHash, type AuditRecord } from '../../src/audit/record.js';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { verifyLog } from '../../src/audit/verify.js';
import { nodeFileSystem, type AuditFileSystem } from '../../src/audit/writer.js';
import { decision, keyPair, readRecords, wrappedFs } from './helpers.js';

async function tempLog(): Promise<string> {
  return path.join(await mkdtemp(path.join(tmpdir(), 'syncgate-audit-')), 'sub', 'audit.jsonl');
}

/** The real file system, with appends that fail (optionally after writing part of the data) while `fail` is set. */
function faultyFs(state: { fail?: string; partial?: boolean }): AuditFileSystem {
  return wrappedFs((real) => ({
    append: async (data: Buffer) => {
      if (state.fail) {
        if (state.partial) await real.append(data.subarray(0, Math.floor(data.length / 2)));
        throw Object.assign(new Error(`${state.fail}: injected`), { code: state.fail });
      }
      await real.append(data);
    },
  }));
}

describe('AuditLog', () => {
  it('appends hash-chained canonical records with consecutive sequence numbers and the clock source', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file, { clockSource: 'system (chrony)' });
    await log.append({ type: 'decision', decisionId: 'a', outcome: 'allow' });
    await log.append({ type: 'decision', decisionId: 'b', outcome: 'deny' });
    await log.close();

    const text = await readFile(file, 'utf8');
    const records = await readRecords(file);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(records[0]!.prevHash).toBe(GENESIS_HASH);
    expect(records[1]!.prevHash).toBe(records[0]!.hash);
    for (const [i, r] of records.entries()) {
      const { hash, ...rest } = r;
      expect(recordHash(rest)).toBe(hash);
      expect(text.split('\n')[i]).toBe(canonicalJson(r));
      expect(r.clock).toBe('system (chrony)');
      expect(typeof r.mono).toBe('number');
      expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
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

  it('keeps secret values out: delivered secrets are reduced to namespace/name/keys', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    await log.append(
      decision(1, {
        secrets: [
          { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'pay', name: 'db' }, data: { password: 'aHVudGVyMg==' }, stringData: { token: 'hunter2' } },
          { namespace: 'pay', name: 'api', keys: ['b', 'a'], value: 'hunter2' },
        ],
      }),
    );
    await log.close();
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('aHVudGVyMg');
    expect((await readRecords(file))[0]!.secrets).toEqual([
      { namespace: 'pay', name: 'db', keys: ['password'] },
      { namespace: 'pay', name: 'api', keys: ['a', 'b'] },
    ]);
  });

  it('refuses to open a log whose last complete record was edited', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    await log.append({ type: 'decision', decisionId: 'a', outcome: 'deny' });
    await log.close();
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"deny"', '"allow"'));
    await expect(AuditLog.open(file)).rejects.toMatchObject({ code: 'AUDIT_LOG_CORRUPT' });
  });

  it('repairs a torn last line: cuts it off, records audit.repaired, and the chain continues and verifies', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    const r1 = await log.append({ type: 'decision', decisionId: 'a' });
    await log.close();
    const torn = '{"type":"decision","seq":2';
    await appendFile(file, torn);

    const reopened = await AuditLog.open(file);
    expect(reopened.repaired).toMatchObject({ truncatedBytes: torn.length, keptSeq: 1, keptHash: r1.hash });
    const r3 = await reopened.append({ type: 'decision', decisionId: 'b' });
    await reopened.close();
    const records = await readRecords(file);
    expect(records.map((r) => r.type)).toEqual(['decision', 'audit.repaired', 'decision']);
    expect(records[1]).toMatchObject({ seq: 2, prevHash: r1.hash, truncatedBytes: torn.length, keptSeq: 1 });
    expect(r3.seq).toBe(3);
    expect((await readFile(file, 'utf8')).includes(torn)).toBe(false);
    expect((await verifyLog(file)).valid).toBe(true);
  });

  it('repairs a file that holds only a torn first line', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    await log.close();
    await writeFile(file, '{"type":"deci');
    const reopened = await AuditLog.open(file);
    await reopened.close();
    const records = await readRecords(file);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ type: 'audit.repaired', seq: 1, prevHash: GENESIS_HASH, truncatedBytes: 13 });
  });

  it('rejects appends after close and reports an unopenable path', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    await log.close();
    await expect(log.append({ type: 'decision' })).rejects.toMatchObject({ code: 'AUDIT_CLOSED' });
    // A directory path that runs through a regular file cannot be created.
    await expect(AuditLog.open(path.join(file, 'nested', 'audit.jsonl'))).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  });

  it('fails a write with AUDIT_WRITE_FAILED and the errno, cuts back a partial write, and recovers when the fault clears', async () => {
    const file = await tempLog();
    const state: { fail?: string; partial?: boolean } = {};
    const log = await AuditLog.open(file, { fs: faultyFs(state) });
    const r1 = await log.append(decision(1));
    state.fail = 'ENOSPC';
    state.partial = true;
    const failed = await Promise.allSettled([log.append(decision(2)), log.append(decision(3))]);
    for (const f of failed) {
      expect(f.status).toBe('rejected');
      const err = (f as PromiseRejectedResult).reason as { code: string; errno: string; message: string };
      expect(err.code).toBe('AUDIT_WRITE_FAILED');
      expect(err.errno).toBe('ENOSPC');
      expect(err.message).toContain('ENOSPC');
    }
    expect(log.lastSeq).toBe(1);
    // Nothing of the failed group is left in the file.
    expect(await readRecords(file)).toHaveLength(1);
    state.fail = undefined;
    const r2 = await log.append(decision(4));
    await log.close();
    expect(r2).toMatchObject({ seq: 2, prevHash: r1.hash, decisionId: 'd-4' });
    expect((await verifyLog(file)).valid).toBe(true);
  });

  it('makes the cut after a failed write durable (a sync after the truncate), before the next write', async () => {
    const file = await tempLog();
    const ops: string[] = [];
    let fail = false;
    const fs = wrappedFs((real) => ({
      append: async (d: Buffer) => {
        if (fail) {
          ops.push('append (fails after half)');
          await real.append(d.subarray(0, Math.floor(d.length / 2)));
          throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
        }
        ops.push('append');
        await real.append(d);
      },
      sync: () => (ops.push('sync'), real.sync()),
      truncate: (n: number) => (ops.push('truncate'), real.truncate(n)),
    }));
    const log = await AuditLog.open(file, { fs });
    await log.append(decision(1));
    fail = true;
    await expect(log.append(decision(2))).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    fail = false;
    await log.append(decision(3));
    await log.close();
    const after = ops.slice(ops.indexOf('append (fails after half)'));
    expect(after.slice(0, 4)).toEqual(['append (fails after half)', 'truncate', 'sync', 'append']);
    expect((await verifyLog(file)).valid).toBe(true);
  });

  it('opens the active file with O_DSYNC, so that an append is durable without an fdatasync after it', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    try {
      await log.append(decision(1));
      const fds = readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false;
        }
      });
      expect(fds.length).toBeGreaterThan(0);
      for (const fd of fds) {
        const flags = Number.parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
        expect(flags & constants.O_DSYNC, `fd ${fd} flags ${flags.toString(8)}`).toBe(constants.O_DSYNC);
        expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
      }
    } finally {
      await log.close();
    }
  });

  it('syncs after each batch a file whose appends are not durable by themselves', async () => {
    const file = await tempLog();
    let syncs = 0;
    const fs = wrappedFs((real) => ({ durableAppends: false, sync: () => (syncs++, real.sync()) }));
    const log = await AuditLog.open(file, { fs });
    await log.append(decision(1));
    await log.append(decision(2));
    expect(syncs).toBe(2);
    await log.close();
  });

  it('rotates by size with the chain continuing across files, and reopens after rotation', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file, { rotation: { maxBytes: 2000 } });
    for (let i = 1; i <= 30; i++) await log.append(decision(i));
    await log.close();
    const names = (await readdir(path.dirname(file))).sort();
    const segments = names.filter((n) => /^audit\.\d{12}\.jsonl$/.test(n));
    expect(segments.length).toBeGreaterThan(3);
    expect(names).toContain('audit.manifest.json');
    for (const s of segments) expect((await stat(path.join(path.dirname(file), s))).size).toBeLessThanOrEqual(2000);
    // The first record of each file continues from the last record of the one before it.
    const all: AuditRecord[] = [];
    for (const s of [...segments, 'audit.jsonl']) all.push(...(await readRecords(path.join(path.dirname(file), s))));
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    all.forEach((r, i) => i > 0 && expect(r.prevHash).toBe(all[i - 1]!.hash));
    const reopened = await AuditLog.open(file, { rotation: { maxBytes: 2000 } });
    expect(reopened.lastSeq).toBe(30);
    await reopened.close();
    const report = await verifyLog(file);
    expect(report).toMatchObject({ valid: true, records: 30, lastSeq: 30 });
  });

  it('rotates by time (the active file’s first record older than maxAge)', async () => {
    const file = await tempLog();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const log = await AuditLog.open(file, { clock: () => new Date(now), rotation: { maxAgeMs: 3_600_000 } });
    await log.append(decision(1));
    now += 1_000;
    await log.append(decision(2));
    now += 3_600_000;
    await log.append(decision(3));
    await log.close();
    expect(await readdir(path.dirname(file))).toContain('audit.000000000001.jsonl');
    expect((await readRecords(path.join(path.dirname(file), 'audit.000000000001.jsonl'))).map((r) => r.seq)).toEqual([1, 2]);
    expect((await readRecords(file)).map((r) => r.seq)).toEqual([3]);
  });

  it('a rotated segment’s lastTime is its last record’s time, as a rebuilt manifest has it', async () => {
    const file = await tempLog();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const log = await AuditLog.open(file, { clock: () => new Date(now), rotation: { maxAgeMs: 3_600_000 } });
    await log.append(decision(1));
    now += 1_000;
    const second = await log.append(decision(2));
    now += 3_600_000;
    await log.append(decision(3)); // rotates first, at 01:00:01
    await log.close();
    const manifestFile = path.join(path.dirname(file), 'audit.manifest.json');
    const lastTime = () => (JSON.parse(readFileSync(manifestFile, 'utf8')) as { segments: Array<{ lastTime: string }> }).segments[0]!.lastTime;
    expect(lastTime()).toBe(second.time);
    const { unlink } = await import('node:fs/promises');
    await unlink(manifestFile);
    await (await AuditLog.open(file)).close();
    expect(lastTime()).toBe(second.time);
  });

  it('a rotation that cannot sync the directory closes the file it opened, puts the old one back and writes on', async () => {
    const file = await tempLog();
    const opened: Array<{ closed: boolean }> = [];
    let failSync = false;
    const fs = wrappedFs(
      (real) => {
        const tracked = { closed: false };
        opened.push(tracked);
        return {
          close: async () => {
            tracked.closed = true;
            await real.close();
          },
        };
      },
      {
        async syncDir(dir) {
          if (failSync) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
          await nodeFileSystem.syncDir(dir);
        },
      },
    );
    const log = await AuditLog.open(file, { fs, rotation: { maxBytes: 300 } });
    await log.append(decision(1));
    failSync = true;
    const before = opened.length;
    await log.append(decision(2)); // over maxBytes: the rotation fails, the record still lands
    expect(opened.length).toBe(before + 1);
    expect(opened.at(-1)!.closed).toBe(true);
    failSync = false;
    await log.close();
    expect((await readRecords(file)).map((r) => r.seq)).toEqual([1, 2]);
  });

  it('picks up a segment renamed just before a crash (not yet in the manifest)', async () => {
    const file = await tempLog();
    const log = await AuditLog.open(file);
    for (let i = 1; i <= 3; i++) await log.append(decision(i));
    await log.close();
    const { rename } = await import('node:fs/promises');
    await rename(file, path.join(path.dirname(file), 'audit.000000000001.jsonl'));
    const reopened = await AuditLog.open(file);
    const r = await reopened.append(decision(4));
    await reopened.close();
    expect(r.seq).toBe(4);
    const manifest = JSON.parse(await readFile(path.join(path.dirname(file), 'audit.manifest.json'), 'utf8')) as { segments: Array<{ lastSeq: number }> };
    expect(manifest.segments.map((s) => s.lastSeq)).toEqual([3]);
    expect((await verifyLog(file)).valid).toBe(true);
  });

  it('writes signed checkpoints every N records and on close, and mirrors them', async () => {
    const file = await tempLog();
    const { privateKey, publicKey } = keyPair();
    const mirrored: unknown[] = [];
    const log = await AuditLog.open(file, {
      checkpoints: { key: privateKey, everyRecords: 5, everyMs: 0, mirrors: [{ write: async (c) => void mirrored.push(c), close: async () => {} }] },
    });
    for (let i = 1; i <= 12; i++) await log.append(decision(i));
    await log.close();
    const records = await readRecords(file);
    const cps = records.filter((r) => r.type === 'audit.checkpoint');
    // after 5 and 10 decisions, and one at close for the last 2
    expect(cps.map((c) => (c.checkpoint as { seq: number }).seq)).toEqual([5, 11, 14]);
    for (const c of cps) expect((c.checkpoint as { head: string }).head).toBe(c.prevHash);
    expect(mirrored).toEqual(cps.map((c) => c.checkpoint));
    const report = await verifyLog(file, { publicKey });
    expect(report).toMatchObject({ valid: true, checkpoints: { count: 3, signaturesChecked: true, lastSeq: 14 }, uncheckpointed: 0 });
  });

  it('writes a checkpoint on the timer while records arrive', async () => {
    const file = await tempLog();
    const { privateKey } = keyPair();
    const log = await AuditLog.open(file, { checkpoints: { key: privateKey, everyRecords: 1000, everyMs: 50 } });
    await log.append(decision(1));
    await new Promise((r) => setTimeout(r, 200));
    const types = (await readRecords(file)).map((r) => r.type);
    await log.close();
    expect(types).toEqual(['decision', 'audit.checkpoint']);
  });
});

describe('an event that cannot be sealed', () => {
  it('fails alone with AUDIT_EVENT_INVALID; the rest of its batch is written and the chain stays whole', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-audit-bad-'));
    const file = path.join(dir, 'audit.jsonl');
    const log = await AuditLog.open(file);
    const circular: Record<string, unknown> = { type: 'decision' };
    circular.self = circular;
    // one batch: appended without waiting in between
    const results = await Promise.allSettled([
      log.append(decision(1)),
      log.append({ type: 'decision', big: 10n } as never),
      log.append(circular as never),
      log.append(decision(2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'AUDIT_EVENT_INVALID' });
    expect((results[3] as PromiseFulfilledResult<AuditRecord>).value.seq).toBe(2);
    expect((await log.append(decision(3))).seq).toBe(3);
    await log.close();
    expect((await readRecords(file)).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await verifyLog(file)).valid).toBe(true);
  });
});

