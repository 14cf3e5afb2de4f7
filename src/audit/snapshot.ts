import { open, type FileHandle } from 'node:fs/promises';
import { findSegments, logPaths, readManifest, type FoundSegment, type ManifestRead } from './segments.js';
import { nodeFileSystem } from './writer.js';

/**
 * A consistent view of a live log for readers (verify, export): the rotated segments, and the
 * active file held open, so a rotation while reading cannot hide records. The segment list is
 * read again after the active file is opened; if a rotation slipped in between, it starts over.
 */
export interface LogSnapshot {
  manifest: ManifestRead;
  segments: FoundSegment[];
  /** The active file, opened; undefined when there is none. */
  active: FileHandle | undefined;
  close(): Promise<void>;
}

const sameList = (a: FoundSegment[], b: FoundSegment[]) => a.length === b.length && a.every((s, i) => s.firstSeq === b[i]!.firstSeq && s.present === b[i]!.present);

export async function snapshotLog(logFile: string): Promise<LogSnapshot> {
  const paths = logPaths(logFile);
  for (let attempt = 0; ; attempt++) {
    const manifest = await readManifest(paths);
    const before = await findSegments(nodeFileSystem, paths, manifest.manifest);
    let active: FileHandle | undefined;
    try {
      active = await open(logFile, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const after = await findSegments(nodeFileSystem, paths, manifest.manifest);
    if (sameList(before, after) || attempt >= 5) {
      return { manifest, segments: after, active, close: async () => void (await active?.close().catch(() => {})) };
    }
    await active?.close();
  }
}
