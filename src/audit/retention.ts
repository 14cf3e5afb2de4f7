import path from 'node:path';
import { exportedMarker, writeManifest, type LogPaths, type Manifest, type SegmentInfo } from './segments.js';
import type { AuditFileSystem } from './writer.js';

/** Which rotated segments may be deleted (docs/audit.md §6). The active file never is. */
export interface RetentionPolicy {
  /** Delete segments whose last record is older than this. */
  maxAgeMs?: number;
  /** Keep at most this many rotated segments. */
  maxFiles?: number;
  /** Never delete a segment that has no export marker (default true). */
  keepUnexported: boolean;
}

/**
 * The oldest segments retention may delete. Only a prefix of the chain is ever deleted (never a
 * segment in the middle), and the walk stops at the first segment that must stay, so an
 * unexported segment also protects every segment after it.
 */
export function selectForDeletion(
  segments: Array<SegmentInfo & { exported: boolean }>,
  policy: RetentionPolicy | undefined,
  nowMs: number,
): SegmentInfo[] {
  if (!policy || (policy.maxAgeMs === undefined && policy.maxFiles === undefined)) return [];
  const live = segments.filter((s) => !s.deleted).sort((a, b) => a.firstSeq - b.firstSeq);
  const chosen: SegmentInfo[] = [];
  for (let i = 0; i < live.length; i++) {
    const s = live[i]!;
    const tooMany = policy.maxFiles !== undefined && live.length - i > policy.maxFiles;
    const lastMs = Date.parse(s.lastTime);
    const tooOld = policy.maxAgeMs !== undefined && Number.isFinite(lastMs) && nowMs - lastMs > policy.maxAgeMs;
    if (!tooMany && !tooOld) break;
    if (policy.keepUnexported && !s.exported) break;
    chosen.push(s);
  }
  return chosen;
}

/**
 * Deletes what selectForDeletion chose. The manifest marks the segments deleted first (it keeps
 * their last seq and hash, so verification can start after them), then the files go.
 */
export async function applyRetention(
  fs: AuditFileSystem,
  paths: LogPaths,
  manifest: Manifest,
  policy: RetentionPolicy | undefined,
  nowMs: number,
  options: { sweepDeleted?: boolean } = {},
): Promise<SegmentInfo[]> {
  // Files a crash left behind after the manifest already marked them deleted: looked for when the
  // log opens (sweepDeleted), not at every rotation, where a long-lived log has thousands of them.
  if (options.sweepDeleted) for (const s of manifest.segments.filter((x) => x.deleted)) await removeSegment(fs, path.join(paths.dir, s.file));
  // Export markers only of segments still there (deleted ones are never chosen again).
  const withMarks = await Promise.all(
    manifest.segments.map(async (s) => ({ ...s, exported: !s.deleted && (await fs.exists(exportedMarker(path.join(paths.dir, s.file)))) })),
  );
  const chosen = selectForDeletion(withMarks, policy, nowMs);
  if (chosen.length === 0) return [];
  const at = new Date(nowMs).toISOString();
  const files = new Set(chosen.map((s) => s.file));
  manifest.segments = manifest.segments.map((s) => (files.has(s.file) ? { ...s, deleted: { at, reason: 'retention' } } : s));
  await writeManifest(fs, paths, manifest);
  for (const s of chosen) await removeSegment(fs, path.join(paths.dir, s.file));
  return chosen;
}

async function removeSegment(fs: AuditFileSystem, file: string): Promise<void> {
  for (const f of [file, exportedMarker(file)]) {
    await fs.unlink(f).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}
