import { readFile, rename, rm, writeFile, appendFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileMirror, signCheckpoint } from '../../src/audit/checkpoint.js';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { AuditLog } from '../../src/audit/log.js';
import { recordHash, type AuditRecord } from '../../src/audit/record.js';
import { verifyLog } from '../../src/audit/verify.js';
import { decision, keyPair, readRecords, tempDir, writeLog } from './helpers.js';

const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean);
const writeLines = (file: string, ls: string[]) => writeFile(file, ls.map((l) => `${l}\n`).join(''));

/** Re-seals a record after an edit, as an attacker who knows the format would. */
function reseal(r: AuditRecord): AuditRecord {
  const { hash: _hash, ...rest } = r;
  return { ...rest, hash: recordHash(rest) } as AuditRecord;
}

async function signedLog(count = 20, everyRecords = 5) {
  const dir = await tempDir();
  const file = path.join(dir, 'audit.jsonl');
  const mirrorFile = path.join(dir, 'mirror', 'checkpoints.jsonl');
  const { privateKey, publicKey } = keyPair();
  await writeLog(file, count, { checkpoints: { key: privateKey, everyRecords, everyMs: 0, mirrors: [fileMirror(mirrorFile)] } });
  return { dir, file, mirrorFile, privateKey, publicKey };
}

describe('verifyLog', () => {
  it('accepts an untouched log, with its checkpoints and mirror', async () => {
    const { file, mirrorFile, publicKey } = await signedLog();
    const report = await verifyLog(file, { publicKey, mirrorFile });
    expect(report).toMatchObject({ valid: true, problem: null, records: 24, firstSeq: 1, lastSeq: 24, uncheckpointed: 0 });
    // 20 decisions and a checkpoint after every 5th
    expect(report.checkpoints).toMatchObject({ count: 4, signaturesChecked: true, lastSeq: 23 });
    expect(report.mirror).toMatchObject({ checkpoints: 4, compared: 4 });
  });

  it('a mirror that cannot be read (missing, a directory) is AUDIT_LOG_UNREADABLE naming it, not a raw fs error', async () => {
    const { dir, file, publicKey } = await signedLog();
    await expect(verifyLog(file, { publicKey, mirrorFile: path.join(dir, 'no-such-mirror.jsonl') })).rejects.toMatchObject({ code: 'AUDIT_LOG_UNREADABLE' });
    const asDirectory = path.join(dir, 'mirror');
    await expect(verifyLog(file, { publicKey, mirrorFile: asDirectory })).rejects.toMatchObject({ code: 'AUDIT_LOG_UNREADABLE', message: expect.stringContaining(asDirectory) });
  });

  it('modified: an edited record (hash left alone) is reported at its seq', async () => {
    const { file, publicKey } = await signedLog();
    const ls = await lines(file);
    ls[6] = ls[6]!.replace('"outcome":"allow"', '"outcome":"deny"').replace('"outcome":"deny"', '"outcome":"allow"');
    ls[6] = ls[6]!.replace('"d-6"', '"d-X"');
    await writeLines(file, ls);
    const report = await verifyLog(file, { publicKey });
    expect(report.valid).toBe(false);
    expect(report.problem).toMatchObject({ kind: 'modified', code: 'AUDIT_RECORD_MODIFIED', seq: 7, line: 7 });
    expect(report.records).toBe(6);
  });

  it('modified: an edited and rehashed record breaks the link to the next one', async () => {
    const { file } = await signedLog();
    const ls = await lines(file);
    const r = JSON.parse(ls[2]!) as AuditRecord;
    ls[2] = canonicalJson(reseal({ ...r, outcome: 'allow', allowed: true }));
    await writeLines(file, ls);
    expect((await verifyLog(file)).problem).toMatchObject({ kind: 'modified', seq: 3, line: 4 });
  });

  it('modified: a rewritten tail with a consistent chain is caught by the checkpoint signature', async () => {
    const { file, publicKey } = await signedLog(20, 5);
    const records = await readRecords(file);
    // Rewrite everything from seq 8 on, recomputing every hash; keep the checkpoints' bodies.
    let prev = records[6]!.hash;
    const forged = records.map((r, i) => {
      if (i < 7) return r;
      const edited = reseal({ ...r, prevHash: prev, ...(r.type === 'decision' ? { outcome: 'allow' } : {}) });
      prev = edited.hash;
      return edited;
    });
    await writeLines(file, forged.map((r) => canonicalJson(r)));
    const report = await verifyLog(file, { publicKey });
    expect(report.problem).toMatchObject({ kind: 'bad-checkpoint', code: 'AUDIT_CHECKPOINT_INVALID' });
    expect(report.problem!.seq).toBeGreaterThanOrEqual(8);
  });

  it('modified: a forged checkpoint re-signed with another key is refused', async () => {
    const { file, publicKey } = await signedLog(10, 5);
    const records = await readRecords(file);
    const other = keyPair().privateKey;
    const i = records.findIndex((r) => r.type === 'audit.checkpoint');
    const cp = records[i]!.checkpoint as { logId: string; seq: number; head: string; time: string };
    records[i] = reseal({ ...records[i]!, checkpoint: signCheckpoint(other, cp) });
    for (let j = i + 1; j < records.length; j++) records[j] = reseal({ ...records[j]!, prevHash: records[j - 1]!.hash });
    await writeLines(file, records.map((r) => canonicalJson(r)));
    expect((await verifyLog(file, { publicKey })).problem).toMatchObject({ kind: 'bad-checkpoint', seq: records[i]!.seq });
    expect((await verifyLog(file, { publicKey })).problem!.message).toContain('signed by key');
  });

  it('bad checkpoint signature: a signature that does not verify', async () => {
    const { file, publicKey } = await signedLog(10, 5);
    const records = await readRecords(file);
    const i = records.findIndex((r) => r.type === 'audit.checkpoint');
    const cp = records[i]!.checkpoint as { signature: string };
    const sig = Buffer.from(cp.signature, 'base64');
    sig[3] = sig[3]! ^ 1;
    records[i] = reseal({ ...records[i]!, checkpoint: { ...cp, signature: sig.toString('base64') } });
    for (let j = i + 1; j < records.length; j++) records[j] = reseal({ ...records[j]!, prevHash: records[j - 1]!.hash });
    await writeLines(file, records.map((r) => canonicalJson(r)));
    expect((await verifyLog(file, { publicKey })).problem).toMatchObject({ kind: 'bad-checkpoint', seq: 6, message: expect.stringContaining('does not verify') });
    // A wrong key makes every checkpoint fail.
    const { file: f2 } = await signedLog(10, 5);
    expect((await verifyLog(f2, { publicKey: keyPair().publicKey })).problem).toMatchObject({ kind: 'bad-checkpoint', seq: 6 });
  });

  it('bad checkpoint: with a key, a log whose checkpoints were all removed (and rechained) fails', async () => {
    const { file, publicKey } = await signedLog(10, 5);
    const records = (await readRecords(file)).filter((r) => r.type !== 'audit.checkpoint');
    const rechained: AuditRecord[] = [];
    for (const [i, r] of records.entries()) rechained.push(reseal({ ...r, seq: i + 1, prevHash: i === 0 ? r.prevHash : rechained[i - 1]!.hash }));
    await writeLines(file, rechained.map((r) => canonicalJson(r)));
    expect((await verifyLog(file, { publicKey })).problem).toMatchObject({ kind: 'bad-checkpoint', message: expect.stringContaining('no checkpoint') });
  });

  it('deleted: a record cut out of the middle', async () => {
    const { file } = await signedLog();
    const ls = await lines(file);
    ls.splice(9, 2);
    await writeLines(file, ls);
    expect((await verifyLog(file)).problem).toMatchObject({ kind: 'deleted', code: 'AUDIT_RECORD_DELETED', seq: 10, message: expect.stringContaining('10..11') });
  });

  it('reordered: two records swapped, and a record moved later', async () => {
    const { file } = await signedLog();
    const ls = await lines(file);
    [ls[3], ls[4]] = [ls[4]!, ls[3]!];
    await writeLines(file, ls);
    expect((await verifyLog(file)).problem).toMatchObject({ kind: 'reordered', code: 'AUDIT_RECORD_REORDERED', seq: 4 });

    const { file: f2 } = await signedLog();
    const l2 = await lines(f2);
    const [moved] = l2.splice(2, 1);
    l2.splice(8, 0, moved!);
    await writeLines(f2, l2);
    expect((await verifyLog(f2)).problem).toMatchObject({ kind: 'reordered', seq: 3 });
  });

  it('reordered: a duplicated record', async () => {
    const { file } = await signedLog();
    const ls = await lines(file);
    ls.splice(5, 0, ls[2]!);
    await writeLines(file, ls);
    expect((await verifyLog(file)).problem).toMatchObject({ kind: 'reordered', seq: 3 });
  });

  it('truncated: the log is cut short, detected against the mirror', async () => {
    const { file, mirrorFile, publicKey } = await signedLog(20, 5);
    const ls = await lines(file);
    await writeLines(file, ls.slice(0, 13));
    // The chain alone cannot see it...
    expect((await verifyLog(file, { publicKey })).valid).toBe(true);
    // ...the mirrored checkpoints can.
    const report = await verifyLog(file, { publicKey, mirrorFile });
    expect(report.problem).toMatchObject({ kind: 'truncated', code: 'AUDIT_LOG_TRUNCATED', seq: 14 });
    expect(report.problem!.message).toContain('ends at seq 13');
  });

  it('modified: a rewritten log that still chains differs from the mirrored checkpoint heads', async () => {
    const { file, mirrorFile } = await signedLog(20, 5);
    const records = await readRecords(file);
    records[2] = reseal({ ...records[2]!, outcome: 'allow' });
    for (let j = 3; j < records.length; j++) records[j] = reseal({ ...records[j]!, prevHash: records[j - 1]!.hash });
    await writeLines(file, records.map((r) => canonicalJson(r)));
    // No key given: checkpoints are only positioned, but the mirror still holds the true heads.
    expect((await verifyLog(file, { mirrorFile })).problem).toMatchObject({ kind: 'modified', seq: 5 });
  });

  it('truncated: --max-unsigned fails a log with too many records after the last checkpoint', async () => {
    const { file, publicKey } = await signedLog(10, 5);
    await appendFile(file, '');
    const log = await AuditLog.open(file);
    for (let i = 0; i < 4; i++) await log.append(decision(100 + i));
    await log.close();
    expect((await verifyLog(file, { publicKey })).uncheckpointed).toBe(4);
    expect((await verifyLog(file, { publicKey, maxUncheckpointed: 3 })).problem).toMatchObject({ kind: 'truncated' });
    expect((await verifyLog(file, { publicKey, maxUncheckpointed: 4 })).valid).toBe(true);
  });

  it('a torn last line of the active file is a warning; of a rotated file it is truncation', async () => {
    const { file } = await signedLog(6, 100);
    await appendFile(file, '{"type":"deci');
    const report = await verifyLog(file);
    expect(report.valid).toBe(true);
    expect(report.warnings.join()).toContain('incomplete');
  });

  describe('across rotated files', () => {
    async function rotated() {
      const dir = await tempDir();
      const file = path.join(dir, 'audit.jsonl');
      const { privateKey, publicKey } = keyPair();
      await writeLog(file, 40, { rotation: { maxBytes: 3000 }, checkpoints: { key: privateKey, everyRecords: 7, everyMs: 0 } });
      const segments = (await readdir(dir)).filter((n) => /^audit\.\d{12}\.jsonl$/.test(n)).sort();
      expect(segments.length).toBeGreaterThanOrEqual(4);
      return { dir, file, segments, publicKey };
    }

    it('verifies the chain through every file in order', async () => {
      const { file, publicKey, segments } = await rotated();
      const report = await verifyLog(file, { publicKey });
      expect(report.valid).toBe(true);
      expect(report.files.map((f) => path.basename(f.file))).toEqual([...segments, 'audit.jsonl']);
      expect(report.records).toBe(report.lastSeq);
    });

    it('missing rotated file: named in the manifest', async () => {
      const { dir, file, segments } = await rotated();
      await rm(path.join(dir, segments[1]!));
      const report = await verifyLog(file);
      expect(report.problem).toMatchObject({ kind: 'missing-file', code: 'AUDIT_FILE_MISSING', seq: Number(segments[1]!.split('.')[1]) });
    });

    it('missing rotated file: manifest gone too, found by the gap in the chain', async () => {
      const { dir, file, segments } = await rotated();
      await rm(path.join(dir, segments[2]!));
      await rm(path.join(dir, 'audit.manifest.json'));
      expect((await verifyLog(file)).problem).toMatchObject({ kind: 'missing-file', seq: Number(segments[2]!.split('.')[1]) });
      // The oldest file deleted without a retention record.
      const r2 = await rotated();
      await rm(path.join(r2.dir, r2.segments[0]!));
      await rm(path.join(r2.dir, 'audit.manifest.json'));
      expect((await verifyLog(r2.file)).problem).toMatchObject({ kind: 'missing-file', seq: 1 });
    });

    it('missing rotated file: a file in the middle marked deleted in the (unsigned) manifest is still missing', async () => {
      const { dir, file, segments, publicKey } = await rotated();
      const manifestFile = path.join(dir, 'audit.manifest.json');
      const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { segments: Array<{ file: string; deleted?: { at: string; reason: string } }> };
      const middle = manifest.segments.find((s) => s.file === segments[2]);
      expect(middle).toBeDefined();
      middle!.deleted = { at: new Date().toISOString(), reason: 'maxFiles' };
      await writeFile(manifestFile, JSON.stringify(manifest));
      await rm(path.join(dir, segments[2]!));
      expect((await verifyLog(file, { publicKey })).problem).toMatchObject({ kind: 'missing-file', seq: Number(segments[2]!.split('.')[1]) });
    });

    it('truncated rotated file: compared with the manifest', async () => {
      const { dir, file, segments } = await rotated();
      const seg = path.join(dir, segments[1]!);
      const ls = await lines(seg);
      await writeLines(seg, ls.slice(0, -1));
      expect((await verifyLog(file)).problem).toMatchObject({ kind: 'truncated' });
    });

    it('files renamed out of order are reported', async () => {
      const { dir, file, segments } = await rotated();
      await rename(path.join(dir, segments[1]!), path.join(dir, 'tmp'));
      await rename(path.join(dir, segments[2]!), path.join(dir, segments[1]!));
      await rename(path.join(dir, 'tmp'), path.join(dir, segments[2]!));
      expect((await verifyLog(file)).valid).toBe(false);
    });

    it('a retention deletion recorded in the manifest is not tampering', async () => {
      const dir = await tempDir();
      const file = path.join(dir, 'audit.jsonl');
      const log = await AuditLog.open(file, { rotation: { maxBytes: 3000 }, retention: { maxFiles: 2, keepUnexported: false } });
      for (let i = 1; i <= 40; i++) await log.append(decision(i));
      await log.close();
      const report = await verifyLog(file);
      expect(report.valid).toBe(true);
      expect(report.files.filter((f) => f.status === 'deleted by retention').length).toBeGreaterThan(0);
      expect(report.firstSeq).toBeGreaterThan(1);
      expect(report.lastSeq).toBe(40);
    });
  });

  it('unreadable: no log at all is an error, not a verdict', async () => {
    const dir = await tempDir();
    await expect(verifyLog(path.join(dir, 'nope.jsonl'))).rejects.toMatchObject({ code: 'AUDIT_LOG_UNREADABLE' });
  });

  it('never throws on garbage, and never calls garbage valid (fuzz)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'audit.jsonl');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string(), fc.json(), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1'))), { minLength: 1, maxLength: 8 }), async (ls) => {
        await writeFile(file, ls.join('\n'));
        const report = await verifyLog(file);
        expect(typeof report.valid).toBe('boolean');
        if (ls.join('').trim().length > 0 && report.records > 0) expect(report.valid).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('detects any single byte change in a valid log (fuzz)', async () => {
    const { file, publicKey } = await signedLog(8, 3);
    const original = await readFile(file);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: original.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const copy = Buffer.from(original);
        copy[at] = copy[at]! ^ xor;
        await writeFile(file, copy);
        const report = await verifyLog(file, { publicKey });
        // Changing the final newline leaves a torn tail (a warning for the active file) that drops one record.
        if (at === original.length - 1) expect(report.valid === false || report.records < 11).toBe(true);
        else expect(report.valid).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
