import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, loadVerifyKey } from '../../src/audit/checkpoint.js';
import { openAuditLog } from '../../src/audit/from-config.js';
import { verifyLog } from '../../src/audit/verify.js';
import { parseConfig } from '../../src/config/load.js';
import { decision, tempDir } from './helpers.js';

describe('openAuditLog (the audit config section)', () => {
  it('resolves paths, signs checkpoints with the configured key and mirrors them to the configured file', async () => {
    const dir = await tempDir();
    const keys = await generateSigningKey(path.join(dir, 'keys'));
    const config = parseConfig(
      { audit: { path: 'log/audit.jsonl', checkpoints: { keyFile: 'keys/audit-signing.key', everyRecords: 2, mirror: { file: 'mirror/cp.jsonl' } } } },
      'test',
      dir,
    );
    expect(config.audit.path).toBe(path.join(dir, 'log', 'audit.jsonl'));
    expect(config.audit.checkpoints.mirror.file).toBe(path.join(dir, 'mirror', 'cp.jsonl'));
    expect(config.audit.rotation).toEqual({ maxBytes: 64 * 1024 * 1024, maxAgeSeconds: 86_400 });
    const log = await openAuditLog(config.audit);
    for (let i = 1; i <= 4; i++) await log.append(decision(i));
    await log.close();
    const mirrored = (await readFile(config.audit.checkpoints.mirror.file!, 'utf8')).trim().split('\n');
    expect(mirrored).toHaveLength(2);
    const report = await verifyLog(config.audit.path, { publicKey: await loadVerifyKey(keys.publicKeyFile), mirrorFile: config.audit.checkpoints.mirror.file! });
    expect(report).toMatchObject({ valid: true, checkpoints: { count: 2, signaturesChecked: true, keyId: keys.keyId }, mirror: { compared: 2 } });
  });

  it('fails to open with a clear code when the key file is missing or not Ed25519', async () => {
    const dir = await tempDir();
    const config = parseConfig({ audit: { path: 'audit.jsonl', checkpoints: { keyFile: 'nope.key' } } }, 'test', dir);
    await expect(openAuditLog(config.audit)).rejects.toMatchObject({ code: 'AUDIT_KEY_UNREADABLE' });
    const { generateKeyPairSync } = await import('node:crypto');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'nope.key'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await expect(openAuditLog(config.audit)).rejects.toMatchObject({ code: 'AUDIT_KEY_INVALID' });
  });
});
