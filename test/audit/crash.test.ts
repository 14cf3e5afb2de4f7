import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keyPair, tempDir } from './helpers.js';
import { exportChunks, exportFiles } from '../../src/audit/export/stream.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { verifyLog } from '../../src/audit/verify.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'fixtures', 'crash-child.mjs');
const BUILT = path.join(here, '..', '..', 'dist', 'audit', 'log.js');
const KILLS = 24;

/** Runs the child until it has acknowledged some records, then SIGKILLs it after a random delay. */
function runAndKill(file: string, keyFile: string, delayMs: number): Promise<{ acks: Map<number, string>; opened: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, file, keyFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks = new Map<number, string>();
    let opened = -1;
    let buf = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const safety = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [tag, seq, hash] = line.split(' ');
        if (tag === 'OPEN') {
          opened = Number(seq);
          timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
        } else if (tag === 'ACK') acks.set(Number(seq), hash!);
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(safety);
      if (signal !== 'SIGKILL') reject(new Error(`child ended with ${code}/${signal}: ${stderr}`));
      else resolve({ acks, opened });
    });
  });
}

describe.skipIf(!existsSync(BUILT))('crash safety (kill -9 under load)', () => {
  it(`keeps every acknowledged record and a verifiable chain across ${KILLS} SIGKILLs`, async () => {
    const dir = await tempDir('syncgate-crash-');
    const file = path.join(dir, 'audit.jsonl');
    const keyFile = path.join(dir, 'audit-signing.key');
    const { privateKey, publicKey } = keyPair();
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const acked = new Map<number, string>();
    let repairs = 0;
    for (let i = 0; i < KILLS; i++) {
      const { acks, opened } = await runAndKill(file, keyFile, 5 + Math.floor(Math.random() * 120));
      // A restart never starts before an acknowledged record.
      const lastAcked = Math.max(0, ...acked.keys());
      expect(opened).toBeGreaterThanOrEqual(lastAcked);
      for (const [seq, hash] of acks) acked.set(seq, hash);
    }
    expect(acked.size).toBeGreaterThan(KILLS);

    const report = await verifyLog(file, { publicKey });
    expect(report.problem).toBeNull();
    expect(report.valid).toBe(true);
    // Every acknowledged record is in the log, with the same hash.
    const found = new Map<number, AuditRecord>();
    for await (const chunk of exportChunks(await exportFiles(file), { format: 'jsonl', filter: {} })) {
      for (const line of chunk.split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as AuditRecord;
        found.set(r.seq, r);
        if (r.type === 'audit.repaired') {
          repairs++;
          // A repair keeps the chain: it follows the last complete record it kept.
          expect(r).toMatchObject({ seq: (r.keptSeq as number) + 1, prevHash: r.keptHash });
        }
      }
    }
    for (const [seq, hash] of acked) expect(found.get(seq)?.hash, `acknowledged seq ${seq}`).toBe(hash);
    expect(report.files.length).toBeGreaterThan(1); // rotation happened under the kills too
    console.info(`crash test: ${acked.size} acknowledged records, ${report.records} in the log, ${repairs} torn-line repair(s), ${report.files.length} files`);
  }, 120_000);
});
