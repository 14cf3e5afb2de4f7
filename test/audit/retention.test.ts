import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { markExported } from '../../src/audit/export/marks.js';
import { AuditLog } from '../../src/audit/log.js';
import { selectForDeletion } from '../../src/audit/retention.js';
import type { SegmentInfo } from '../../src/audit/segments.js';
import { verifyLog } from '../../src/audit/verify.js';
import { nodeFileSystem, type AuditFileSystem } from '../../src/audit/writer.js';
import { decision, tempDir } from './helpers.js';

const seg = (n: number, lastTime: string, exported: boolean): SegmentInfo & { exported: boolean } => ({
  file: `audit.${String(n * 10 + 1).padStart(12, '0')}.jsonl`,
  firstSeq: n * 10 + 1,
  lastSeq: n * 10 + 10,
  firstPrevHash: '0'.repeat(64),
  lastHash: '1'.repeat(64),
  firstTime: lastTime,
  lastTime,
  bytes: 1,
  rotatedAt: lastTime,
  exported,
});

describe('retention', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const old = '2025-01-01T00:00:00Z';
  const fresh = '2026-05-31T00:00:00Z';

  it('deletes by count and by age, oldest first, only a prefix', () => {
    const segments = [seg(0, old, true), seg(1, old, true), seg(2, fresh, true), seg(3, fresh, true)];
    expect(selectForDeletion(segments, { maxFiles: 3, keepUnexported: true }, now).map((s) => s.firstSeq)).toEqual([1]);
    expect(selectForDeletion(segments, { maxAgeMs: 30 * 86_400_000, keepUnexported: true }, now).map((s) => s.firstSeq)).toEqual([1, 11]);
    expect(selectForDeletion(segments, { keepUnexported: true }, now)).toEqual([]);
    // A young segment stops the walk: nothing after it goes, even if it is old.
    expect(selectForDeletion([seg(0, fresh, true), seg(1, old, true)], { maxAgeMs: 86_400_000 * 30, keepUnexported: true }, now)).toEqual([]);
  });

  it('never deletes an unexported segment when keepUnexported is set (nor anything after it)', () => {
    const segments = [seg(0, old, true), seg(1, old, false), seg(2, old, true)];
    expect(selectForDeletion(segments, { maxAgeMs: 1, keepUnexported: true }, now).map((s) => s.firstSeq)).toEqual([1]);
    expect(selectForDeletion(segments, { maxAgeMs: 1, keepUnexported: false }, now).map((s) => s.firstSeq)).toEqual([1, 11, 21]);
  });

  it('deletes exported segments on rotation, keeps unexported ones, and the rest still verifies', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'audit.jsonl');
    const options = { rotation: { maxBytes: 2500 }, retention: { maxFiles: 1, keepUnexported: true } };
    let log = await AuditLog.open(file, options);
    for (let i = 1; i <= 20; i++) await log.append(decision(i));
    await log.close();
    const segmentsOf = async () => (await readdir(dir)).filter((n) => /^audit\.\d{12}\.jsonl$/.test(n)).sort();
    const before = await segmentsOf();
    expect(before.length).toBeGreaterThan(2); // nothing exported: nothing deleted
    // Export (mark) the two oldest; the next rotation deletes exactly those.
    await markExported(path.join(dir, before[0]!), { format: 'jsonl', records: 1, destination: 'test' });
    await markExported(path.join(dir, before[1]!), { format: 'jsonl', records: 1, destination: 'test' });
    log = await AuditLog.open(file, options);
    await log.rotate();
    await log.close();
    const after = await segmentsOf();
    expect(after).not.toContain(before[0]);
    expect(after).not.toContain(before[1]);
    expect(after).toContain(before[2]);
    expect((await readdir(dir)).filter((n) => n.endsWith('.exported'))).toEqual([]);
    const report = await verifyLog(file);
    expect(report.valid).toBe(true);
    expect(report.files.filter((f) => f.status === 'deleted by retention')).toHaveLength(2);
  });

  it('does not go over every deleted segment again at each rotation (only when the log opens)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'audit.jsonl');
    let unlinks = 0;
    let markerChecks = 0;
    const fs: AuditFileSystem = {
      ...nodeFileSystem,
      unlink: async (f) => {
        unlinks++;
        await nodeFileSystem.unlink(f);
      },
      exists: async (f) => {
        if (f.endsWith('.exported')) markerChecks++;
        return nodeFileSystem.exists(f);
      },
    };
    const log = await AuditLog.open(file, { fs, rotation: { maxBytes: 1200 }, retention: { maxFiles: 1, keepUnexported: false } });
    const perRotation: Array<{ unlinks: number; markerChecks: number }> = [];
    for (let i = 1; i <= 30; i++) {
      const [u, m] = [unlinks, markerChecks];
      await log.append(decision(i));
      if (unlinks !== u) perRotation.push({ unlinks: unlinks - u, markerChecks: markerChecks - m });
    }
    await log.close();
    expect(perRotation.length).toBeGreaterThan(4);
    // each rotation deletes one segment (the file and its marker) and checks the markers of the live ones only
    for (const r of perRotation.slice(2)) expect(r).toEqual({ unlinks: 2, markerChecks: 2 });
  });

  it('finishes a deletion a crash interrupted (marked deleted in the manifest, file still there)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'audit.jsonl');
    const options = { rotation: { maxBytes: 2500 }, retention: { maxFiles: 1, keepUnexported: false } };
    let log = await AuditLog.open(file, options);
    for (let i = 1; i <= 12; i++) await log.append(decision(i));
    await log.close();
    const { readFile, writeFile } = await import('node:fs/promises');
    const manifestFile = path.join(dir, 'audit.manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { segments: Array<{ file: string; deleted?: unknown }> };
    const gone = manifest.segments.find((s) => s.deleted)!;
    // Simulate the crash: the file is back, the manifest says deleted.
    const { copyFile } = await import('node:fs/promises');
    const live = manifest.segments.find((s) => !s.deleted)!;
    await copyFile(path.join(dir, live.file), path.join(dir, gone.file));
    await writeFile(manifestFile, JSON.stringify(manifest));
    log = await AuditLog.open(file, options);
    await log.close();
    expect(await readdir(dir)).not.toContain(gone.file);
  });
});
