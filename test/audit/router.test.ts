import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { exportChunks, exportFiles } from '../../src/audit/export/stream.js';
import { AuditLog } from '../../src/audit/log.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { createAuditRouter } from '../../src/server/routes/audit.js';
import { decision, readRecords, tempDir } from './helpers.js';

const TOKEN = 'admin-token-for-tests';
const servers: Array<{ close: () => void }> = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function serve(options: { tokens?: boolean; records?: number; failAudit?: boolean; maxBytes?: number } = {}) {
  const dir = await tempDir();
  const file = path.join(dir, 'audit.jsonl');
  const log = await AuditLog.open(file, { rotation: { maxBytes: options.maxBytes ?? 4000 } });
  for (let i = 1; i <= (options.records ?? 9); i++) await log.append(decision(i));
  const sink = options.failAudit ? { append: async (): Promise<AuditRecord> => Promise.reject(Object.assign(new Error('disk full'), { code: 'AUDIT_WRITE_FAILED' })) } : log;
  const app = express();
  app.use(createAuditRouter({ logFile: file, adminTokens: options.tokens === false ? [] : [{ name: 'auditor', digest: createHash('sha256').update(TOKEN).digest() }], audit: sink }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = (q: string, token: string | undefined = TOKEN) => fetch(`${url}/v1/audit${q}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { file, log, get };
}

describe('GET /v1/audit', () => {
  it('streams JSON Lines, CSV and OCSF to an admin, and records the export', async () => {
    const { file, log, get } = await serve();
    const jsonl = await get('');
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await jsonl.text()).trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(lines.slice(0, 9).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const csv = await get('?format=csv&outcome=deny');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = (await csv.text()).split('\r\n').filter(Boolean);
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(['3', '6', '9']);

    const ocsf = await get('?format=ocsf&repository=https://git.example/r1.git&since=2000-01-01');
    const events = (await ocsf.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.metadata.sequence)).toEqual([1, 3, 5, 7, 9]);
    expect(events[0]).toMatchObject({ class_uid: 6003, category_uid: 6 });

    await log.close();
    let all = '';
    for await (const c of exportChunks(await exportFiles(file), { format: 'jsonl', filter: {} })) all += c;
    const exports = all
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord)
      .filter((r) => r.type === 'audit.export');
    expect(exports).toHaveLength(3);
    expect(exports[1]).toMatchObject({ caller: { identity: 'auditor' }, format: 'csv', filter: { outcome: 'deny', since: null } });
  });

  it('401 without a valid admin token (recorded as auth.failed), 403 when no admin tokens are configured', async () => {
    const { file, log, get } = await serve();
    for (const token of ['', 'wrong']) {
      const res = await get('', token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toMatchObject({ reasons: [{ code: 'UNAUTHENTICATED' }] });
    }
    await log.close();
    const failed = (await readRecords(file)).filter((r) => r.type === 'auth.failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ endpoint: '/v1/audit' });
    expect(JSON.stringify(failed)).not.toContain('wrong');

    const closed = await serve({ tokens: false });
    const res = await closed.get('');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ reasons: [{ code: 'ADMIN_DISABLED' }] });
    await closed.log.close();
  });

  it('400 for a bad query (unparsable since, unknown format, repeated or unknown parameters)', async () => {
    const { log, get } = await serve();
    for (const q of ['?since=yesterday', '?format=xml', '?outcome=maybe', '?format=csv&format=jsonl', '?limit=3']) {
      const res = await get(q);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { reasons: Array<{ code: string }> }).reasons[0]!.code, q).toMatch(/AUDIT_BAD_TIME|USAGE/);
    }
    await log.close();
  });

  it('refuses (503) an export it cannot record', async () => {
    const { log, get } = await serve({ failAudit: true });
    const res = await get('');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ reasons: [{ code: 'AUDIT_WRITE_FAILED' }] });
    await log.close();
  });

  it('streams a large log without buffering it (the first bytes arrive before the end is read)', async () => {
    const { log, get } = await serve({ records: 3000, maxBytes: 512 * 1024 });
    const res = await get('');
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    let bytes = 0;
    let lines = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      lines += Buffer.from(chunk).toString().split('\n').length - 1;
    }
    expect(lines).toBe(3001); // 3000 decisions + this export's own record
    expect(bytes).toBeGreaterThan(1_000_000);
    await log.close();
  });
});
