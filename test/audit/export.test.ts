import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvField, csvRow } from '../../src/audit/export/csv.js';
import { matches, parseTimeBound } from '../../src/audit/export/filter.js';
import { OCSF_API_ACTIVITY, toOcsf } from '../../src/audit/export/ocsf.js';
import { exportChunks, exportFiles } from '../../src/audit/export/stream.js';
import { sealRecord, encodeRecord, GENESIS_HASH, type AuditRecord } from '../../src/audit/record.js';
import { decision, tempDir, writeLog } from './helpers.js';

/** A strict RFC 4180 parser (CRLF records, quoted fields, doubled quotes) to read our CSV back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        if (text[i] === '"' || text[i] === '\n') throw new Error(`bare ${JSON.stringify(text[i])} in an unquoted field at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else if (i < text.length) throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  if (row.length > 0) throw new Error('the last record has no CRLF');
  return rows;
}

const rec = (over: Record<string, unknown> = {}, seq = 1): AuditRecord => sealRecord(decision(seq, over), seq, GENESIS_HASH, new Date('2026-03-01T10:00:00Z'));

describe('CSV (RFC 4180)', () => {
  it('quotes commas, quotes, CR and LF, and reads back to the same values', async () => {
    const nasty = 'a,b "quoted"\r\nnext\nline';
    const r = rec({ repository: nasty, caller: { identity: 'x,y', remoteAddress: '::1' }, reasons: [{ code: 'A', message: 'm' }, { code: 'B', message: 'n' }] });
    const rows = parseCsv(`${CSV_COLUMNS.join(',')}\r\n${csvRow(r)}`);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, rows[1]![i]]));
    expect(row).toMatchObject({ seq: '1', repository: nasty, caller: 'x,y', remoteAddress: '::1', reasonCodes: 'A;B', hash: r.hash, prevHash: GENESIS_HASH });
  });

  it('neutralises spreadsheet formulas and leaves plain values alone', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-1')).toBe("'-1");
    expect(csvField('@a')).toBe("'@a");
    expect(csvField('plain')).toBe('plain');
    expect(csvField(42)).toBe('42');
    expect(csvField(undefined)).toBe('');
  });

  it('exports a whole log with a header and one row per record, names of secrets only', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'audit.jsonl');
    await writeLog(file, 3);
    let out = '';
    for await (const c of exportChunks(await exportFiles(file), { format: 'csv', filter: {} })) out += c;
    const rows = parseCsv(out);
    expect(rows).toHaveLength(4);
    expect(rows.slice(1).map((r) => r[0])).toEqual(['1', '2', '3']);
  });
});

describe('OCSF API Activity', () => {
  /** The attributes OCSF 1.3 marks required for the base event and the API Activity class. */
  function checkOcsf(e: Record<string, unknown>) {
    for (const k of ['activity_id', 'category_uid', 'class_uid', 'severity_id', 'time', 'type_uid', 'metadata', 'actor', 'api', 'src_endpoint']) expect(e, k).toHaveProperty(k);
    expect(e).toMatchObject({ class_uid: 6003, category_uid: 6, class_name: 'API Activity', category_name: 'Application Activity' });
    expect(e.type_uid).toBe(600300 + (e.activity_id as number));
    expect([0, 1, 2, 3, 4, 99]).toContain(e.activity_id);
    expect([0, 1, 2, 3, 4, 5, 6, 99]).toContain(e.severity_id);
    expect([0, 1, 2, 99]).toContain(e.status_id);
    expect(Number.isInteger(e.time)).toBe(true);
    const meta = e.metadata as { version: string; product: { name: string; vendor_name: string } };
    expect(meta.version).toMatch(/^1\.\d+\.\d+$/);
    expect(meta.product).toMatchObject({ name: 'syncgate', vendor_name: 'syncgate' });
    expect((e.api as { operation: string }).operation).toEqual(expect.any(String));
    expect(Object.keys(e.actor as object).length).toBeGreaterThan(0);
  }

  it('maps a deny decision', () => {
    const r = rec({ secrets: [{ namespace: 'pay', name: 'db', keys: ['password'] }] }, 3);
    const e = toOcsf(r);
    checkOcsf(e);
    expect(e).toMatchObject({
      ...OCSF_API_ACTIVITY,
      activity_id: 99,
      status_id: 2,
      status: 'Failure',
      status_code: 'BAD_SIGNATURE',
      severity_id: 3,
      time: Date.parse('2026-03-01T10:00:00Z'),
      actor: { user: { name: 'argocd' } },
      api: { operation: 'decision', request: { uid: 'd-3' } },
      src_endpoint: { ip: '127.0.0.1' },
      metadata: { uid: r.hash, sequence: 3, correlation_uid: 'd-3' },
      unmapped: { prevHash: GENESIS_HASH, requestDigest: r.requestDigest, signer: 'F'.repeat(40) },
    });
    expect(e.resources).toEqual(
      expect.arrayContaining([
        { type: 'git.revision', name: r.repository, uid: r.revision },
        { type: 'secret', name: 'pay/db:password' },
      ]),
    );
  });

  it('maps allow decisions and security events', () => {
    const allow = toOcsf(rec({}, 1));
    checkOcsf(allow);
    expect(allow).toMatchObject({ status_id: 1, severity_id: 1 });
    const start = toOcsf(sealRecord({ type: 'gate.start', pid: 1 }, 1, GENESIS_HASH, new Date()));
    checkOcsf(start);
    expect(start).toMatchObject({ actor: { user: { name: 'syncgate', type: 'System' } }, src_endpoint: { name: 'syncgate' } });
    const failed = toOcsf(sealRecord({ type: 'auth.failed', remoteAddress: '10.0.0.9' }, 1, GENESIS_HASH, new Date()));
    expect(failed).toMatchObject({ status_id: 2, severity_id: 3, src_endpoint: { ip: '10.0.0.9' } });
    const exp = toOcsf(sealRecord({ type: 'audit.export', caller: { identity: 'auditor' } }, 1, GENESIS_HASH, new Date()));
    expect(exp).toMatchObject({ activity_id: 2, activity_name: 'Read', type_uid: 600302 });
  });
});

describe('filters and times', () => {
  it('parses RFC 3339 and ages, and refuses everything else with AUDIT_BAD_TIME', () => {
    const now = new Date('2026-03-10T00:00:00Z');
    expect(parseTimeBound('2026-03-01', '--since').toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(parseTimeBound('2026-03-01T12:30:00+02:00', '--since').toISOString()).toBe('2026-03-01T10:30:00.000Z');
    expect(parseTimeBound('7d', '--since', now).toISOString()).toBe('2026-03-03T00:00:00.000Z');
    expect(parseTimeBound('90m', '--since', now).toISOString()).toBe('2026-03-09T22:30:00.000Z');
    for (const bad of ['yesterday', '2026-02-31', '2026-13-01', '2026-03-01T10:00', '12', '', '1y', '2026-03-01T25:00:00Z']) {
      expect(() => parseTimeBound(bad, '--since', now), bad).toThrow(expect.objectContaining({ code: 'AUDIT_BAD_TIME' }));
    }
  });

  it('filters by time window, outcome and repository', () => {
    const r = rec({}, 3);
    expect(matches(r, {})).toBe(true);
    expect(matches(r, { since: new Date('2026-03-01T10:00:00Z') })).toBe(true);
    expect(matches(r, { until: new Date('2026-03-01T10:00:00Z') })).toBe(false);
    expect(matches(r, { outcome: 'deny' })).toBe(true);
    expect(matches(r, { outcome: 'allow' })).toBe(false);
    expect(matches(r, { repository: 'https://git.example/r1.git' })).toBe(true);
    expect(matches(r, { repository: 'https://git.example/r0.git' })).toBe(false);
    expect(matches(sealRecord({ type: 'gate.start' }, 1, GENESIS_HASH, new Date()), { outcome: 'allow' })).toBe(false);
  });
});

describe('streaming', () => {
  it('reads only as far as the consumer pulls (backpressure, constant memory)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'audit.jsonl');
    let prev = GENESIS_HASH;
    const parts: string[] = [];
    for (let i = 1; i <= 12_000; i++) {
      const r = sealRecord(decision(i, { pad: 'x'.repeat(400) }), i, prev, new Date());
      prev = r.hash;
      parts.push(encodeRecord(r));
    }
    await writeFile(file, parts.join(''));
    const size = parts.reduce((n, p) => n + p.length, 0);
    expect(size).toBeGreaterThan(8 * 1024 * 1024);
    let read = 0;
    const it = exportChunks(await exportFiles(file), { format: 'jsonl', filter: {}, onBytes: (n) => (read += n) });
    const first = await it.next();
    expect(first.value!.length).toBeGreaterThanOrEqual(64 * 1024);
    expect(read).toBeLessThan(1024 * 1024);
    await it.return(undefined);
  });

  it('passes JSON Lines through byte for byte and skips damaged lines', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'audit.jsonl');
    const records = await writeLog(file, 3);
    const { appendFile } = await import('node:fs/promises');
    await appendFile(file, 'garbage\n{"type":"deci');
    let out = '';
    let skipped = 0;
    for await (const c of exportChunks(await exportFiles(file), { format: 'jsonl', filter: {}, onSkipped: () => skipped++ })) out += c;
    expect(out).toBe(records.map(encodeRecord).join(''));
    expect(skipped).toBe(2);
  });
});
