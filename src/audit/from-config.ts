import type { AuditConfig } from '../config/schema.js';
import { fileMirror, loadSigningKey, streamMirror, type CheckpointMirror } from './checkpoint.js';
import { AuditLog, type AuditLogOptions } from './log.js';

/** The AuditLog options the `audit` config section asks for (keys are loaded here). */
export async function auditLogOptions(config: AuditConfig, extra: Pick<AuditLogOptions, 'onWarning' | 'clock' | 'fs'> = {}): Promise<AuditLogOptions> {
  const cp = config.checkpoints;
  const mirrors: CheckpointMirror[] = [];
  if (cp.mirror.file) mirrors.push(fileMirror(cp.mirror.file));
  if (cp.mirror.stdout) mirrors.push(streamMirror(process.stdout));
  return {
    ...extra,
    clockSource: config.clockSource,
    rotation: { maxBytes: config.rotation.maxBytes, maxAgeMs: config.rotation.maxAgeSeconds * 1000 },
    retention: {
      keepUnexported: config.retention.keepUnexported,
      ...(config.retention.maxAgeDays !== undefined ? { maxAgeMs: config.retention.maxAgeDays * 86_400_000 } : {}),
      ...(config.retention.maxFiles !== undefined ? { maxFiles: config.retention.maxFiles } : {}),
    },
    ...(cp.keyFile
      ? { checkpoints: { key: await loadSigningKey(cp.keyFile), everyRecords: cp.everyRecords, everyMs: cp.everySeconds * 1000, mirrors } }
      : {}),
  };
}

/** Opens the log the config describes: rotation, retention, checkpoints and mirrors included. */
export async function openAuditLog(config: AuditConfig, extra: Pick<AuditLogOptions, 'onWarning' | 'clock' | 'fs'> = {}): Promise<AuditLog> {
  return AuditLog.open(config.path, await auditLogOptions(config, extra));
}
