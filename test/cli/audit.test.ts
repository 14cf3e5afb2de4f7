import { readFile, writeFile, stat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileMirror, loadSigningKey } from '../../src/audit/checkpoint.js';
import { decision, tempDir, writeLog } from '../audit/helpers.js';
import { AuditLog } from '../../src/audit/log.js';
import { runCli } from './run-cli.js';

async function keygen(dir: string) {
  const res = await runCli(['audit', 'keygen', '--out', path.join(dir, 'keys'), '--output', 'json']);
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as { privateKeyFile: string; publicKeyFile: string; keyId: string };
}

describe('syncgate audit keygen', () => {
  it('writes a 0600 private key and a public key, and never overwrites', async () => {
    const dir = await tempDir();
    const k = await keygen(dir);
    expect((await stat(k.privateKeyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(k.publicKeyFile, 'utf8')).toContain('BEGIN PUBLIC KEY');
    expect(k.keyId).toMatch(/^[0-9a-f]{16}$/);
    const again = await runCli(['audit', 'keygen', '--out', path.join(dir, 'keys')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('AUDIT_KEY_EXISTS');
  });
});

describe('syncgate audit verify', () => {
  it('exit 0 for a valid signed log, 1 with the first bad seq after tampering, 2 when unreadable', async () => {
    const dir = await tempDir();
    const k = await keygen(dir);
    const file = path.join(dir, 'audit.jsonl');
    const mirror = path.join(dir, 'mirror.jsonl');
    await writeLog(file, 12, { checkpoints: { key: await loadSigningKey(k.privateKeyFile), everyRecords: 4, everyMs: 0, mirrors: [fileMirror(mirror)] } });

    const ok = await runCli(['audit', 'verify', '--log', file, '--key', k.publicKeyFile, '--mirror', mirror, '--output', 'json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, records: 15, checkpoints: { count: 3, signaturesChecked: true, keyId: k.keyId } });
    const text = await runCli(['audit', 'verify', '--log', file, '--key', k.publicKeyFile]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('audit log VALID: 15 records');

    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[5] = lines[5]!.replace('"d-5"', '"d-X"');
    await writeFile(file, lines.join('\n'));
    const bad = await runCli(['audit', 'verify', '--log', file, '--key', k.publicKeyFile, '--output', 'json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, problem: { kind: 'modified', seq: 6, code: 'AUDIT_RECORD_MODIFIED' } });
    const badText = await runCli(['audit', 'verify', '--log', file]);
    expect(badText.code).toBe(1);
    expect(badText.stdout).toMatch(/NOT VALID: modified at seq 6/);

    // Truncated below the mirrored checkpoints.
    await writeFile(file, `${(await readFile(file, 'utf8')).split('\n').slice(0, 3).join('\n')}\n`);
    const cut = await runCli(['audit', 'verify', '--log', file, '--mirror', mirror, '--output', 'json']);
    expect(cut.code).toBe(1);
    expect(JSON.parse(cut.stdout).problem).toMatchObject({ kind: 'truncated' });

    const missing = await runCli(['audit', 'verify', '--log', path.join(dir, 'none.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('AUDIT_LOG_UNREADABLE');
    const badKey = await runCli(['audit', 'verify', '--log', file, '--key', file]);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain('AUDIT_KEY_INVALID');
    const usage = await runCli(['audit', 'verify', '--log', file, '--output', 'yaml']);
    expect(usage.code).toBe(2);
  });

  it('never crashes on garbage: a binary file is a verdict (exit 1), not a stack trace', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'audit.jsonl');
    await writeFile(file, Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b, 0x0a, 0x80, 0x81, 0x0a]));
    const res = await runCli(['audit', 'verify', '--log', file, '--output', 'json']);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).problem).toMatchObject({ kind: 'malformed', line: 1 });
    expect(res.stderr).toBe('');
  });
});

describe('syncgate audit export', () => {
  async function log() {
    const dir = await tempDir();
    const file = path.join(dir, 'audit.jsonl');
    await writeLog(file, 9, { rotation: { maxBytes: 3000 } });
    return { dir, file };
  }

  it('streams JSON Lines, CSV and OCSF across rotated files, with filters', async () => {
    const { file } = await log();
    const jsonl = await runCli(['audit', 'export', '--log', file]);
    expect(jsonl.code).toBe(0);
    expect(jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const deny = await runCli(['audit', 'export', '--log', file, '--outcome', 'deny', '--format', 'csv']);
    expect(deny.code).toBe(0);
    const rows = deny.stdout.split('\r\n').filter(Boolean);
    expect(rows[0]!.startsWith('seq,time,type,')).toBe(true);
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(['3', '6', '9']);
    const ocsf = await runCli(['audit', 'export', '--log', file, '--format', 'ocsf', '--repository', 'https://git.example/r0.git']);
    expect(ocsf.code).toBe(0);
    const events = ocsf.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.metadata.sequence)).toEqual([2, 4, 6, 8]);
    expect(events.every((e) => e.class_uid === 6003)).toBe(true);
    const none = await runCli(['audit', 'export', '--log', file, '--since', '1h', '--until', '2000-01-01']);
    expect(none.code).toBe(2);
    const future = await runCli(['audit', 'export', '--log', file, '--since', '2999-01-01']);
    expect(future.code).toBe(0);
    expect(future.stdout).toBe('');
  });

  it('a --since that does not parse is exit 2 with a clear error', async () => {
    const { file } = await log();
    const res = await runCli(['audit', 'export', '--log', file, '--since', 'last tuesday']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('AUDIT_BAD_TIME');
    expect(res.stderr).toContain('--since "last tuesday" is not a time');
    expect(res.stdout).toBe('');
    expect((await runCli(['audit', 'export', '--log', file, '--format', 'xml'])).code).toBe(2);
    expect((await runCli(['audit', 'export', '--log', file, '--outcome', 'maybe'])).code).toBe(2);
  });

  it('--out writes a file; --mark-exported marks the rotated files (and refuses a filtered export)', async () => {
    const { dir, file } = await log();
    const out = path.join(dir, 'export.jsonl');
    const res = await runCli(['audit', 'export', '--log', file, '--out', out, '--mark-exported']);
    expect(res.code).toBe(0);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(9);
    const names = await readdir(dir);
    const segments = names.filter((n) => /^audit\.\d{12}\.jsonl$/.test(n));
    expect(segments.length).toBeGreaterThan(0);
    for (const s of segments) expect(names).toContain(`${s}.exported`);
    expect(names).not.toContain('audit.jsonl.exported');
    const filtered = await runCli(['audit', 'export', '--log', file, '--outcome', 'deny', '--mark-exported']);
    expect(filtered.code).toBe(2);
  });

  it('an export to a full or unwritable destination fails clearly (exit 1) and leaves nothing marked', async () => {
    const { dir, file } = await log();
    const res = await runCli(['audit', 'export', '--log', file, '--out', '/dev/full', '--mark-exported']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/AUDIT_EXPORT_FAILED: .*ENOSPC/);
    expect((await readdir(dir)).filter((n) => n.endsWith('.exported'))).toEqual([]);
    // The log is untouched by a failed export.
    const l = await AuditLog.open(file);
    expect((await l.append(decision(10))).seq).toBe(10);
    await l.close();
  });
});
