// Audit log: durable appends per second (each append resolves only after fdatasync; group
// commit batches what arrives together) with 1, 16 and 64 concurrent writers, then the same at
// 16 writers with signed checkpoints and rotation on, then verify and export throughput.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { exportChunks, exportFiles } from '../dist/audit/export/stream.js';
import { AuditLog } from '../dist/audit/log.js';
import { verifyLog } from '../dist/audit/verify.js';

const event = (w, i) => ({
  type: 'decision',
  decisionId: `bench-${w}-${i}`,
  caller: { identity: 'argocd', remoteAddress: '127.0.0.1' },
  outcome: 'allow',
  allowed: true,
  reasons: [],
  repository: 'https://git.example/platform.git',
  revision: 'a'.repeat(40),
  application: { name: 'payments', namespace: 'argocd' },
  signer: { method: 'openpgp', fingerprint: 'F'.repeat(40) },
  requestDigest: `sha256:${'b'.repeat(64)}`,
});

async function appendRate(file, writers, seconds, options = {}) {
  const log = await AuditLog.open(file, options);
  let count = 0;
  const stopAt = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < stopAt; i++) {
        await log.append(event(w, i));
        count++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await log.close();
  return count / elapsed;
}

export async function run({ quick }) {
  const seconds = quick ? 1 : 3;
  const dir = mkdtempSync(path.join(tmpdir(), 'syncgate-bench-audit-'));
  try {
    for (const writers of [1, 16, 64]) {
      const rate = await appendRate(path.join(dir, `plain-${writers}`, 'audit.jsonl'), writers, seconds);
      console.log(`${String(writers).padStart(2)} writer(s)                          ${Math.round(rate).toLocaleString('en')} durable records/s`);
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    const file = path.join(dir, 'signed', 'audit.jsonl');
    const rate = await appendRate(file, 16, seconds, { rotation: { maxBytes: 8 * 1024 * 1024 }, checkpoints: { key: privateKey, everyRecords: 1000, everyMs: 60_000 } });
    console.log(`16 writers, checkpoints + rotation       ${Math.round(rate).toLocaleString('en')} durable records/s`);

    const files = await exportFiles(file);
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    for (const f of files) await f.handle?.close();
    let t = performance.now();
    const report = await verifyLog(file, { publicKey: privateKey });
    let s = (performance.now() - t) / 1000;
    console.log(`verify (${report.records.toLocaleString('en')} records, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${report.files.length} files)   ${Math.round(report.records / s).toLocaleString('en')} records/s, ${(bytes / 2 ** 20 / s).toFixed(0)} MiB/s${report.valid ? '' : ' (NOT VALID?)'}`);
    for (const format of ['jsonl', 'csv', 'ocsf']) {
      t = performance.now();
      let out = 0;
      for await (const chunk of exportChunks(await exportFiles(file), { format, filter: {} })) out += chunk.length;
      s = (performance.now() - t) / 1000;
      console.log(`export ${format.padEnd(5)}                             ${Math.round(report.records / s).toLocaleString('en')} records/s (${(out / 2 ** 20).toFixed(1)} MiB out)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
