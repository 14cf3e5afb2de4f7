import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { type Request, type Response } from 'express';
import { parseOutcome, parseTimeBound, type ExportFilter } from '../../audit/export/filter.js';
import { CONTENT_TYPES, EXPORT_FORMATS, exportChunks, exportFiles, type ExportFormat } from '../../audit/export/stream.js';
import type { AuditEvent, AuditRecord } from '../../audit/record.js';
import { InputError, SyncgateError, asSyncgateError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { AuthFailureRecorder } from '../auth-failures.js';
import { authenticateBearer, type NamedToken } from '../auth.js';

export interface AuditRouterOptions {
  /** The active audit log file (config.audit.path); rotated files are found beside it. */
  logFile: string;
  /** auth.adminTokens, loaded with loadTokens(). Empty: the endpoint answers 403. */
  adminTokens: NamedToken[];
  /** The gate's audit log: failed authentications and every export are recorded in it. */
  audit?: { append(event: AuditEvent): Promise<AuditRecord> };
  logger?: Logger;
  productVersion?: string;
  /** Where failed authentications go (bounded per source and window); else straight to `audit`. */
  authFailures?: AuthFailureRecorder;
}

const QUERY_KEYS = new Set(['format', 'since', 'until', 'outcome', 'repository']);

function queryString(req: Request, key: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InputError('USAGE', `the query parameter ${key} must be given once, as a string`, { path: key });
  return v;
}

function parseQuery(req: Request): { format: ExportFormat; filter: ExportFilter } {
  for (const k of Object.keys(req.query as object)) {
    if (!QUERY_KEYS.has(k)) throw new InputError('USAGE', `unknown query parameter ${k}; known: ${[...QUERY_KEYS].join(', ')}`, { path: k });
  }
  const format = queryString(req, 'format') ?? 'jsonl';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new InputError('USAGE', `format must be jsonl, csv or ocsf, not ${JSON.stringify(format)}`, { path: 'format' });
  const filter: ExportFilter = {};
  const since = queryString(req, 'since');
  const until = queryString(req, 'until');
  if (since !== undefined) filter.since = parseTimeBound(since, 'since');
  if (until !== undefined) filter.until = parseTimeBound(until, 'until');
  const outcome = parseOutcome(queryString(req, 'outcome'), 'outcome');
  if (outcome) filter.outcome = outcome;
  const repository = queryString(req, 'repository');
  if (repository !== undefined) filter.repository = repository;
  return { format: format as ExportFormat, filter };
}

/**
 * `GET /v1/audit?format=jsonl|csv|ocsf&since=&until=&outcome=&repository=`: the audit export over
 * HTTP, streamed with backpressure, behind an admin bearer token. The export itself is recorded
 * (event audit.export) before the first byte is sent; if that record cannot be written the
 * export is refused (503), like any other unrecordable action.
 */
export function createAuditRouter(options: AuditRouterOptions): express.Router {
  const router = express.Router();
  router.get('/v1/audit', async (req: Request, res: Response) => {
    const remoteAddress = req.socket.remoteAddress ?? null;
    if (options.adminTokens.length === 0) {
      res.status(403).json({ reasons: [{ code: 'ADMIN_DISABLED', message: 'no admin tokens are configured (auth.adminTokens), so the audit export is disabled' }] });
      return;
    }
    const identity = authenticateBearer(req.headers.authorization, options.adminTokens);
    if (identity === undefined) {
      options.logger?.warn({ remoteAddress }, 'audit export request with a missing or wrong admin token');
      if (options.authFailures) await options.authFailures.record('/v1/audit', remoteAddress);
      else
        await options.audit?.append({ type: 'auth.failed', endpoint: '/v1/audit', remoteAddress }).catch((err: unknown) => {
          options.logger?.error({ err: (err as Error).message }, 'could not record a failed authentication');
        });
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ reasons: [{ code: 'UNAUTHENTICATED', message: 'a valid admin bearer token is required' }] });
      return;
    }
    let query: { format: ExportFormat; filter: ExportFilter };
    let files;
    try {
      query = parseQuery(req);
    } catch (err) {
      const e = asSyncgateError(err);
      res.status(e instanceof InputError ? 400 : 500).json({ reasons: [e.toJSON()] });
      return;
    }
    try {
      await options.audit?.append({
        type: 'audit.export',
        caller: { identity, ...(remoteAddress ? { remoteAddress } : {}) },
        format: query.format,
        filter: {
          since: query.filter.since?.toISOString() ?? null,
          until: query.filter.until?.toISOString() ?? null,
          outcome: query.filter.outcome ?? null,
          repository: query.filter.repository ?? null,
        },
      });
    } catch (err) {
      const e = asSyncgateError(err, 'AUDIT_WRITE_FAILED');
      res.status(503).json({ reasons: [{ code: e.code, message: `the export could not be recorded, so it is refused: ${e.message}` }] });
      return;
    }
    try {
      // Listed after the export's own record, so a rotation it caused cannot hide records.
      files = await exportFiles(options.logFile);
    } catch (err) {
      const e = asSyncgateError(err);
      res.status(500).json({ reasons: [e.toJSON()] });
      return;
    }
    res.status(200);
    res.set('Content-Type', CONTENT_TYPES[query.format]);
    res.set('Content-Disposition', `attachment; filename="syncgate-audit.${query.format === 'csv' ? 'csv' : 'jsonl'}"`);
    res.set('Cache-Control', 'no-store');
    try {
      await pipeline(Readable.from(exportChunks(files, { format: query.format, filter: query.filter, ...(options.productVersion ? { productVersion: options.productVersion } : {}) })), res);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client went away
      const e = err instanceof SyncgateError ? err : asSyncgateError(err, 'AUDIT_EXPORT_FAILED');
      options.logger?.error({ code: e.code, err: e.message }, 'audit export failed mid-stream');
      // Headers are gone: cutting the connection is the only honest signal (the chunked body never ends).
      if (!res.headersSent) res.status(500).json({ reasons: [e.toJSON()] });
      else res.destroy(e);
    }
  });
  return router;
}
