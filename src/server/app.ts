import { subtle } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import { InputError, SyncgateError } from '../errors.js';
import type { Decision } from '../gate/decision.js';
import { rejectRequest, runGate } from '../gate/pipeline.js';
import type { Caller, GateDependencies } from '../gate/types.js';
import type { Logger } from '../log.js';
import { authenticateBearer, type NamedToken } from './auth.js';
import type { AuthFailureRecorder } from './auth-failures.js';
import { BodyBufferPool } from './body-pool.js';
import { parseGateBody } from './json-body.js';
import type { GateMetrics } from './metrics.js';
import { readPooledBody, type PooledBody } from './read-body.js';
import { createHealthRouter } from './routes/health.js';
import { createSealingKeyRouter } from './routes/sealing-key.js';

export interface AppState {
  /** Why the gate is not ready, or undefined when it is. */
  notReady: () => string | undefined;
  shuttingDown: () => boolean;
}

export interface AppOptions {
  gate: GateDependencies;
  metrics: GateMetrics;
  logger: Logger;
  state: AppState;
  bodyLimitBytes: number;
  gateTokens: NamedToken[];
  /** Failed authentications, bounded per source and window (auth-failures.ts). */
  authFailures: AuthFailureRecorder;
  /** Further routes (the audit export) mounted before the 404 handler. */
  routers?: express.Router[];
}

const STATUS: Record<Decision['outcome'], number> = { allow: 200, deny: 403, bad_request: 400 };

/** The subject CN of a verified client certificate (mutual TLS on the main listener), if any. */
function clientCertificateName(req: Request): string | undefined {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

function callerOf(req: Request, tokens: NamedToken[]): Caller | undefined {
  const remoteAddress = req.socket.remoteAddress;
  if (tokens.length === 0) {
    const cn = clientCertificateName(req);
    return { identity: cn ? `x509:${cn}` : 'anonymous', ...(remoteAddress ? { remoteAddress } : {}) };
  }
  const name = authenticateBearer(req.headers.authorization, tokens);
  return name === undefined ? undefined : { identity: name, ...(remoteAddress ? { remoteAddress } : {}) };
}

/** /v1/gate body buffers kept for reuse (16 bodies of a typical ~0.5 MB application). */
const BODY_POOL_BYTES = 8 * 1024 * 1024;

export function createApp(options: AppOptions): express.Express {
  const { gate, metrics, logger, state } = options;
  const app = express();
  const bodies = new BodyBufferPool(BODY_POOL_BYTES);
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    res.on('finish', () => metrics.httpRequests.inc({ route: req.route?.path ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });

  app.use(createHealthRouter(state));

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const sendDecision = (res: Response, decision: Decision, status?: number) => {
    metrics.decisions.inc({ outcome: decision.outcome, reason: decision.reasons[0]?.code ?? 'none' });
    logger.info(
      { decisionId: decision.decisionId, outcome: decision.outcome, reasons: decision.reasons.map((r) => r.code), revision: decision.revision, repository: decision.repository, auditSeq: decision.audit?.seq },
      'decision',
    );
    res.status(status ?? STATUS[decision.outcome]).json(decision);
  };

  /** The last resort when a rejection could not be answered as a decision: a deny, never silence. */
  const failUnanswered = (res: Response, err: unknown) => {
    logger.error({ err: (err as Error).message }, 'could not answer a rejected request');
    if (!res.headersSent) res.status(500).json({ allowed: false, reasons: [{ code: 'INTERNAL_ERROR', message: 'internal error; the request is denied' }] });
  };

  app.use(createSealingKeyRouter(gate.sealing, options.bodyLimitBytes));
  for (const router of options.routers ?? []) app.use(router);

  app.post(
    '/v1/gate',
    (req, res, next) => {
      const caller = callerOf(req, options.gateTokens);
      if (!caller) {
        logger.warn({ remoteAddress: req.socket.remoteAddress }, 'gate request with a missing or wrong bearer token');
        void options.authFailures
          .record('/v1/gate', req.socket.remoteAddress ?? null)
          .finally(() => res.status(401).set('WWW-Authenticate', 'Bearer').json({ allowed: false, reasons: [{ code: 'UNAUTHENTICATED', message: 'a valid bearer token is required' }] }));
        return;
      }
      res.locals.caller = caller;
      if (!req.is('application/json')) {
        void rejectRequest(new InputError('REQUEST_NOT_JSON', 'the request body must be JSON (Content-Type: application/json)'), caller, gate)
          .then((d) => sendDecision(res, d, 415))
          .catch((err: unknown) => failUnanswered(res, err));
        return;
      }
      next();
    },
    (req, _res, next) => {
      // JSON is UTF-8 (RFC 8259 §8.1); a body declared in another charset cannot be read as sent.
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
      if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') next(Object.assign(new Error('unsupported charset'), { type: 'charset.unsupported', status: 415 }));
      else next();
    },
    readPooledBody(bodies, options.bodyLimitBytes),
    async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      // The body's buffer goes back to the pool once the decision's stages have settled: its
      // EscapedYaml is a view of it, and a stage can outlive the answer (a deadline).
      const release = (res.locals as { pooledBody?: PooledBody }).pooledBody?.release ?? (() => {});
      // Hashed on the thread pool (WebCrypto's digest is an async job), beside the decision: the
      // body is hundreds of KiB, and this is the main thread's time for every decision.
      // (WebCrypto copies the bytes when called, so the buffer may go back to the pool before it is done.)
      const requestDigest = subtle.digest('SHA-256', raw).then(
        (d) => `sha256:${Buffer.from(d).toString('hex')}`,
        () => null, // recorded as unknown; never a rejection left unhandled when the body does not parse
      );
      let body: unknown;
      try {
        body = parseGateBody(raw, requestDigest);
      } catch (err) {
        release();
        const decision = await rejectRequest(err as InputError, res.locals.caller as Caller, gate);
        sendDecision(res, decision, 400);
        return;
      }
      const decision = await runGate(body, res.locals.caller as Caller, gate, { requestDigest, onStagesSettled: release });
      sendDecision(res, decision);
    },
  );

  // Body-parser failures on /v1/gate still get a recorded JSON decision.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    const caller = (res.locals.caller as Caller | undefined) ?? { identity: 'unknown' };
    let error: SyncgateError;
    let status = 400;
    if (e.type === 'entity.too.large') {
      error = new InputError('BODY_TOO_LARGE', `the request body is larger than the limit of ${options.bodyLimitBytes} bytes`);
      status = 413;
    } else if (e.type === 'entity.parse.failed') {
      // Never quote the parser's message: it repeats part of the body, which may hold a secret.
      error = new InputError('REQUEST_NOT_JSON', 'the request body is not valid JSON');
    } else if (e.type === 'request.aborted' || e.type === 'request.size.invalid' || e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      error = new InputError('REQUEST_UNREADABLE', `the request body could not be read (${e.type})`);
    } else {
      logger.error({ err: e.message, path: req.path }, 'unexpected error');
      error = new SyncgateError('INTERNAL_ERROR', 'internal error; the request is denied');
      status = 500;
    }
    if (req.path !== '/v1/gate') {
      res.status(status).json({ reasons: [error.toJSON()] });
      return;
    }
    void rejectRequest(error, caller, gate, status === 500 ? 'deny' : 'bad_request')
      .then((d) => sendDecision(res, d, status === 500 ? 403 : status))
      .catch((err: unknown) => failUnanswered(res, err));
  });

  app.use((_req, res) => {
    res.status(404).json({ reasons: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
  });
  return app;
}
