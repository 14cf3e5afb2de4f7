/**
 * The audit disk fails under the running gate: full (a 64 KiB tmpfs), read-only at start (a
 * read-only bind mount) and read-only mid-run (injected EROFS, see below). Each decision is then a deny with AUDIT_WRITE_FAILED, even one
 * that would be allowed; when the fault clears the gate allows again without a restart and the
 * hash chain is unbroken. Needs mount(8) and root; skipped with a message where refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { verifyLog } from '../../src/audit/verify.js';
import { parseConfig } from '../../src/config/load.js';
import { runGate } from '../../src/gate/pipeline.js';
import { loadTrustMaterial } from '../../src/gate/trust-material.js';
import type { GateDependencies } from '../../src/gate/types.js';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from '../../src/config/defaults.js';
import { startTestGate, type TestGate } from '../server/harness.js';
import { wrappedFs } from '../audit/helpers.js';

async function mountTmpfs(): Promise<string | undefined> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-faults-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

const mount = await mountTmpfs();
if (!mount) console.warn('test/faults/audit-disk: mount -t tmpfs is refused here; the injected-fault tests in test/gate/pipeline.test.ts and test/audit/enospc.test.ts still run');

afterAll(() => {
  if (mount) execFileSync('umount', ['-l', mount], { stdio: 'ignore' });
});

describe.skipIf(!mount)('audit disk faults under the running gate', () => {
  let gate: TestGate;
  let allowed: string;
  let auditFile: string;
  const filler = () => path.join(mount!, 'filler');

  beforeAll(async () => {
    allowed = readFileSync(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8');
    mkdirSync(path.join(mount!, 'log'));
    auditFile = path.join(mount!, 'log', 'audit.jsonl');
    const trust = { ...EMBEDDED_DEFAULTS.trust, keyrings: [path.join(PACKAGE_ROOT, 'keys.example', 'dev-signing-key.pub.asc')] };
    gate = await startTestGate({ trust, audit: { path: auditFile } });
  });
  afterAll(async () => {
    try {
      execFileSync('mount', ['-o', 'remount,rw', mount!], { stdio: 'ignore' });
    } catch {
      // already read-write
    }
    await gate?.close().catch(() => {});
  });

  const decide = () => gate.post(allowed);

  it('allows while the disk has room', async () => {
    const { status, json } = await decide();
    expect(status).toBe(200);
    expect(json.allowed).toBe(true);
  });

  it('disk full: every decision, even an allowable one, is a deny with AUDIT_WRITE_FAILED; recovers when space returns', async () => {
    // Fill all but a few hundred bytes, then keep deciding until the disk is full.
    const free = Number(execFileSync('df', ['--output=avail', '-B1', mount!], { encoding: 'utf8' }).trim().split('\n')[1]);
    writeFileSync(filler(), Buffer.alloc(Math.max(0, free - 8 * 1024)));
    let denied: { status: number; json: Record<string, unknown> } | undefined;
    for (let i = 0; i < 200 && !denied; i++) {
      const r = await decide();
      if (!r.json.allowed) denied = r;
      else expect(r.status).toBe(200);
    }
    expect(denied, 'the disk never filled').toBeDefined();
    expect(denied!.status).toBe(403);
    expect(denied!.json.audit).toBeNull();
    expect((denied!.json.reasons as Array<{ code: string; message: string }>).at(-1)).toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('ENOSPC') });
    // Still full: still denied.
    expect((await decide()).json.allowed).toBe(false);
    expect((await verifyLog(auditFile)).valid).toBe(true);

    rmSync(filler());
    const recovered = await decide();
    expect(recovered.status).toBe(200);
    expect(recovered.json.allowed).toBe(true);
    expect((await verifyLog(auditFile)).valid).toBe(true);
  });

  it('every answered decision is in the log exactly once (the denied ones could not be recorded)', async () => {
    const records = readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; decisionId?: string });
    const ids = records.filter((r) => r.type === 'decision').map((r) => r.decisionId);
    expect(ids.length).toBeGreaterThan(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect((await verifyLog(auditFile)).valid).toBe(true);
  });
});

describe.skipIf(!mount)('a read-only audit disk', () => {
  it('at start (a read-only bind mount): the gate refuses to start with a coded error and listens on nothing', async () => {
    const ro = await mkdtemp(path.join(tmpdir(), 'syncgate-faults-ro-'));
    execFileSync('mount', ['--bind', '-o', 'ro', mount!, ro]);
    try {
      const err = (await startTestGate({ audit: { path: path.join(ro, 'log', 'audit.jsonl') } }).catch((e: unknown) => e)) as { code?: string; message?: string };
      expect(err.code).toMatch(/^AUDIT_[A-Z_]+$/);
      expect(err.message, JSON.stringify(err)).toMatch(/EROFS/);
    } finally {
      execFileSync('umount', ['-l', ro]);
    }
  });
});

/**
 * A disk that turns read-only under a running gate cannot be arranged with an open file (the
 * kernel refuses remount,ro while a writer holds a file: EBUSY), so the fault is injected at the
 * audit log's file-system seam: every append fails with EROFS while `readOnly` is set.
 */
describe('a disk that turns read-only mid-run (injected EROFS)', () => {
  it('denies with AUDIT_WRITE_FAILED (EROFS) while read-only, and allows again once writable', async () => {
    let readOnly = false;
    const fs = wrappedFs((f) => ({
      append: (data) => (readOnly ? Promise.reject(Object.assign(new Error(`EROFS: read-only file system, write`), { code: 'EROFS' })) : f.append(data)),
    }));
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-faults-erofs-'));
    const file = path.join(dir, 'audit.jsonl');
    const audit = await AuditLog.open(file, { fs });
    const config = parseConfig({ ...EMBEDDED_DEFAULTS, policies: { paths: [] } }, 'test', PACKAGE_ROOT);
    const verifier = await loadTrustMaterial(config.trust);
    const deps: GateDependencies = {
      verifier: () => verifier,
      policies: () => ({ policies: [], exceptions: [], loadedAt: new Date(), generation: 1 }),
      policyOptions: { modes: { defaultMode: 'enforce', overrides: {} }, bindings: {} },
      audit,
      limits: config.limits,
    };
    const body = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8')) as unknown;
    try {
      expect((await runGate(body, { identity: 't' }, deps)).allowed).toBe(true);
      readOnly = true;
      for (let i = 0; i < 3; i++) {
        const d = await runGate(body, { identity: 't' }, deps);
        expect(d.allowed).toBe(false);
        expect(d.outcome).toBe('deny');
        expect(d.reasons.at(-1)).toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('EROFS') });
      }
      readOnly = false;
      const recovered = await runGate(body, { identity: 't' }, deps);
      expect(recovered.allowed).toBe(true);
      expect(recovered.audit?.seq).toBe(2);
    } finally {
      await audit.close();
    }
    const result = await verifyLog(file);
    expect(result.valid).toBe(true);
  });
});
