import { writeFile } from 'node:fs/promises';
import { exportedMarker } from '../segments.js';

/**
 * Marks a rotated segment as exported (docs/audit.md §6): retention with keepUnexported deletes
 * only segments that carry this marker. One small file per segment, created atomically, so the
 * CLI and the gate never write the same file.
 */
export async function markExported(segmentFile: string, details: { format: string; records: number; destination: string; at?: Date }): Promise<void> {
  const body = { exportedAt: (details.at ?? new Date()).toISOString(), format: details.format, records: details.records, destination: details.destination };
  await writeFile(exportedMarker(segmentFile), `${JSON.stringify(body)}\n`, { mode: 0o640, flush: true });
}
