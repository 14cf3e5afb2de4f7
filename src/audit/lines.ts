import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export interface Line {
  /** The line without its newline; undefined when it was longer than the limit or not UTF-8. */
  text: string | undefined;
  /** Why `text` is undefined. */
  problem?: 'too long' | 'not UTF-8';
  /** 1-based line number in the file. */
  lineNo: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Bytes of the line without the newline. */
  bytes: number;
  /** False for a last line with no final newline (torn). */
  terminated: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function decode(buf: Buffer): string | undefined {
  try {
    return decoder.decode(buf);
  } catch {
    return undefined;
  }
}

/**
 * Reads a file line by line in constant memory: at most one chunk plus one line of up to
 * `maxLineBytes` is held; longer lines are reported (not returned) and skipped. Honours
 * backpressure because the consumer pulls.
 */
export async function* readLines(
  file: string,
  options: { maxLineBytes?: number; chunkBytes?: number; onBytes?: (n: number) => void; handle?: FileHandle } = {},
): AsyncGenerator<Line> {
  const max = options.maxLineBytes ?? 1024 * 1024;
  // With a handle (a snapshot of a live log), read it from the start and leave it open.
  const stream = options.handle
    ? createReadStream(file, { fd: options.handle, start: 0, autoClose: false, highWaterMark: options.chunkBytes ?? 256 * 1024 })
    : createReadStream(file, { highWaterMark: options.chunkBytes ?? 256 * 1024 });
  let parts: Buffer[] = [];
  let partBytes = 0;
  let overlong = false;
  let lineNo = 0;
  let lineStart = 0; // offset of the current line's first byte
  let consumed = 0; // bytes seen before the current chunk
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    options.onBytes?.(chunk.length);
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(0x0a, from);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(from, end);
      if (!overlong) {
        if (partBytes + piece.length > max) {
          overlong = true;
          parts = [];
        } else if (piece.length > 0) {
          parts.push(Buffer.from(piece));
        }
      }
      partBytes += piece.length;
      if (nl === -1) break;
      lineNo++;
      const text = overlong ? undefined : decode(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      yield {
        text,
        ...(overlong ? { problem: 'too long' as const } : text === undefined ? { problem: 'not UTF-8' as const } : {}),
        lineNo,
        offset: lineStart,
        bytes: partBytes,
        terminated: true,
      };
      lineStart = consumed + nl + 1;
      parts = [];
      partBytes = 0;
      overlong = false;
      from = nl + 1;
    }
    consumed += chunk.length;
  }
  if (partBytes > 0) {
    lineNo++;
    const text = overlong ? undefined : decode(Buffer.concat(parts));
    yield {
      text,
      ...(overlong ? { problem: 'too long' as const } : text === undefined ? { problem: 'not UTF-8' as const } : {}),
      lineNo,
      offset: lineStart,
      bytes: partBytes,
      terminated: false,
    };
  }
}
