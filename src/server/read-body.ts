import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { BodyBufferPool } from './body-pool.js';

/** What readPooledBody leaves in res.locals: the body's buffer, to give back once nothing reads it. */
export interface PooledBody {
  release: () => void;
}

const INITIAL_BYTES = 64 * 1024;
const MAX_INITIAL_BYTES = 1024 * 1024;

/** An error the app's error handler maps as it maps body-parser's (same `type` and `status`). */
function bodyError(type: string, status: number, message: string): Error {
  return Object.assign(new Error(message), { type, status, expose: true });
}

/**
 * Reads the request body into a buffer from `pool` (req.body: a Buffer over exactly the bytes
 * sent), as express.raw would read it: at most `limit` bytes (413 `entity.too.large`, by the
 * declared length before reading or while reading), a body that ends short of its declared length
 * is `request.size.invalid`, a dropped connection `request.aborted`. A compressed body
 * (Content-Encoding other than identity) goes to express.raw, which inflates it into its own buffer.
 */
export function readPooledBody(pool: BodyBufferPool, limit: number): RequestHandler {
  const inflating = express.raw({ type: () => true, limit });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.destroyed || req.readableAborted) {
      next(bodyError('request.aborted', 400, 'request aborted'));
      return;
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      inflating(req, res, next);
      return;
    }
    const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    if (declared === undefined && req.headers['transfer-encoding'] === undefined) {
      req.body = Buffer.alloc(0);
      next();
      return;
    }
    if (declared !== undefined && declared > limit) {
      next(bodyError('entity.too.large', 413, 'request entity too large'));
      return;
    }
    // Not the whole declared length up front: a client that declares 16 MiB and sends a byte must
    // not reserve 16 MiB per connection. Larger bodies grow the buffer as their bytes arrive.
    let buffer = pool.take(Math.min(declared ?? INITIAL_BYTES, MAX_INITIAL_BYTES));
    let length = 0;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
      if (err) {
        pool.give(buffer);
        req.pause(); // node discards the rest of the body once the answer is sent
        next(err);
        return;
      }
      const taken = buffer;
      let released = false;
      (res.locals as { pooledBody?: PooledBody }).pooledBody = {
        release: () => {
          if (released) return;
          released = true;
          pool.give(taken);
        },
      };
      req.body = taken.subarray(0, length);
      next();
    };
    const onData = (chunk: Buffer) => {
      if (length + chunk.length > limit) {
        finish(bodyError('entity.too.large', 413, 'request entity too large'));
        return;
      }
      if (length + chunk.length > buffer.length) {
        // no declared length (chunked), or more than declared: a larger buffer
        const larger = pool.take(Math.min(limit, Math.max(2 * buffer.length, length + chunk.length)));
        buffer.copy(larger, 0, 0, length);
        pool.give(buffer);
        buffer = larger;
      }
      chunk.copy(buffer, length);
      length += chunk.length;
    };
    // (node's parser holds a body to its Content-Length; this only guards that assumption)
    const onEnd = () => finish(declared !== undefined && length !== declared ? bodyError('request.size.invalid', 400, 'request size did not match content length') : undefined);
    // 'close' before 'end': the client went away mid-body
    const onClose = () => finish(bodyError('request.aborted', 400, 'request aborted'));
    const onError = (err: Error) => finish(Object.assign(err, { type: 'request.aborted', status: 400 }));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onError);
  };
}
