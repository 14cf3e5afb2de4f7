import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthFailureRecorder } from '../../src/server/auth-failures.js';
import { memoryAudit } from '../helpers/memory-audit.js';
import { startTestGate } from './harness.js';

const singles = (records: Array<Record<string, unknown>>) => records.filter((r) => r.type === 'auth.failed' && r.repeated === undefined);
const summaries = (records: Array<Record<string, unknown>>) => records.filter((r) => r.type === 'auth.failed' && r.repeated !== undefined);

describe('AuthFailureRecorder', () => {
  it('records a source’s first failures one by one, then counts them into one record when the window ends', async () => {
    const audit = memoryAudit();
    const failures = new AuthFailureRecorder(audit, undefined, { perSource: 3 });
    for (let i = 0; i < 8; i++) await failures.record('/v1/gate', '10.0.0.1');
    await failures.record('/v1/gate', '10.0.0.2');
    await failures.record('/v1/audit', '10.0.0.1');
    expect(singles(audit.records).map((r) => `${String(r.endpoint)} ${String(r.remoteAddress)}`)).toEqual([
      ...Array<string>(3).fill('/v1/gate 10.0.0.1'),
      '/v1/gate 10.0.0.2',
      '/v1/audit 10.0.0.1',
    ]);
    expect(summaries(audit.records)).toEqual([]);
    await failures.flush();
    const [summary, ...rest] = summaries(audit.records);
    expect(rest).toEqual([]);
    expect(summary).toMatchObject({ endpoint: '/v1/gate', remoteAddress: '10.0.0.1', repeated: 5 });
    expect(Date.parse(String(summary!.since))).toBeLessThanOrEqual(Date.parse(String(summary!.until)));
    // a new window: the source's first failures are single records again
    await failures.record('/v1/gate', '10.0.0.1');
    expect(singles(audit.records)).toHaveLength(6);
  });

  it('caps the single records of a window in all, and sources beyond the tracked number share one count', async () => {
    const audit = memoryAudit();
    const failures = new AuthFailureRecorder(audit, undefined, { perSource: 2, total: 3, maxSources: 2 });
    for (const address of ['a', 'a', 'b', 'b', 'c', 'd', 'd']) await failures.record('/v1/gate', address);
    expect(singles(audit.records).map((r) => r.remoteAddress)).toEqual(['a', 'a', 'b']);
    await failures.flush();
    expect(summaries(audit.records).map((r) => [r.remoteAddress, r.repeated])).toEqual([
      ['b', 1],
      ['*', 3],
    ]);
  });

  it('closes a window by itself after windowMs', async () => {
    const audit = memoryAudit();
    const failures = new AuthFailureRecorder(audit, undefined, { perSource: 1, windowMs: 50 });
    for (let i = 0; i < 4; i++) await failures.record('/v1/gate', 'x');
    await new Promise((r) => setTimeout(r, 150));
    expect(summaries(audit.records)).toEqual([expect.objectContaining({ remoteAddress: 'x', repeated: 3 })]);
  });

  it('answers even when the audit log cannot take the record', async () => {
    const failures = new AuthFailureRecorder(memoryAudit(new Error('disk full')));
    await expect(failures.record('/v1/gate', 'x')).resolves.toBeUndefined();
  });
});

describe('a flood of unauthenticated requests against the real gate', () => {
  it('writes ten records for the first failures of a source and one count for the rest, before gate.stop', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-flood-'));
    await writeFile(path.join(dir, 'token'), 'flood-test-token-value\n');
    const gate = await startTestGate({ auth: { gateTokens: [{ name: 'argocd', tokenFile: path.join(dir, 'token') }] } });
    try {
      for (let i = 0; i < 40; i++) expect((await gate.post({}, { authorization: `Bearer wrong-${i}` })).status).toBe(401);
      expect(singles(await gate.records())).toHaveLength(10);
    } finally {
      await gate.close();
    }
    const records = await gate.records();
    expect(singles(records)).toHaveLength(10);
    const [summary] = summaries(records);
    expect(summary).toMatchObject({ endpoint: '/v1/gate', repeated: 30 });
    expect(records.findIndex((r) => r === summary)).toBeLessThan(records.findIndex((r) => r.type === 'gate.stop'));
    expect(JSON.stringify(records)).not.toContain('wrong-');
  });
});
