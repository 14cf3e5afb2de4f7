import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { verifyLog } from '../../src/audit/verify.js';
import { decision, tempDir } from './helpers.js';

/** Mounts a 64 KiB tmpfs if this machine lets us (root, not refused by the sandbox). */
async function smallDisk(): Promise<string | undefined> {
  const dir = await tempDir('syncgate-enospc-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

const mount = await smallDisk();
afterAll(() => {
  if (mount) execFileSync('umount', ['-l', mount], { stdio: 'ignore' });
});

describe.skipIf(!mount)('a real full disk (64 KiB tmpfs)', () => {
  it('denies with AUDIT_WRITE_FAILED (ENOSPC) when full, keeps the log valid, and recovers when space returns', async () => {
    const dir = mount!;
    const filler = path.join(dir, 'filler');
    mkdirSync(path.join(dir, 'log'));
    const file = path.join(dir, 'log', 'audit.jsonl');
    const log = await AuditLog.open(file);
    // Leave a few KiB: fill the rest.
    writeFileSync(filler, Buffer.alloc(48 * 1024));
    let okCount = 0;
    let failure: { code?: string; errno?: string; message?: string } | undefined;
    for (let i = 1; i <= 200 && !failure; i++) {
      try {
        await log.append(decision(i, { pad: 'p'.repeat(400) }));
        okCount++;
      } catch (err) {
        failure = err as typeof failure;
      }
    }
    expect(okCount).toBeGreaterThan(0);
    expect(failure).toMatchObject({ code: 'AUDIT_WRITE_FAILED', errno: 'ENOSPC' });
    expect(failure!.message).toContain('ENOSPC');
    // Still full: still failing, never a torn record.
    await expect(log.append(decision(999, { pad: 'p'.repeat(2000) }))).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    expect((await verifyLog(file)).valid).toBe(true);

    await rm(filler);
    const r = await log.append(decision(1000));
    expect(r.seq).toBe(okCount + 1);
    await log.close();
    const report = await verifyLog(file);
    expect(report).toMatchObject({ valid: true, lastSeq: okCount + 1 });
  });
});
