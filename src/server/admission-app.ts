import express, { type NextFunction, type Request, type Response } from 'express';
import { InputError } from '../errors.js';
import { parseAdmissionReview, reviewAdmission } from '../gate/admission.js';
import type { GateDependencies } from '../gate/types.js';
import type { Logger } from '../log.js';
import type { AppState } from './app.js';
import type { GateMetrics } from './metrics.js';
import { createHealthRouter } from './routes/health.js';

export interface AdmissionAppOptions {
  gate: GateDependencies;
  metrics: GateMetrics;
  logger: Logger;
  state: AppState;
  bodyLimitBytes: number;
  timeoutMs: number;
}

/** The HTTPS app the API server calls: POST /v1/admission (ValidatingWebhook), plus probes. */
export function createAdmissionApp(options: AdmissionAppOptions): express.Express {
  const { gate, metrics, logger, state } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(createHealthRouter(state));

  app.post('/v1/admission', express.json({ limit: options.bodyLimitBytes, strict: true, type: () => true }), async (req, res) => {
    const request = parseAdmissionReview(req.body);
    const review = await reviewAdmission(request, { identity: 'kube-apiserver', ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}) }, gate, options.timeoutMs);
    const outcome = review.response.allowed ? 'allow' : 'deny';
    metrics.decisions.inc({ outcome: `admission_${outcome}`, reason: review.response.status?.reason ?? 'none' });
    logger.info({ uid: request.uid, operation: request.operation, dryRun: request.dryRun === true, allowed: review.response.allowed, reason: review.response.status?.reason }, 'admission review');
    res.json(review);
  });

  // Bodies that are not an AdmissionReview v1: 400 with a reason (the API server reports the call as failed).
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; message?: string; code?: string };
    if (err instanceof InputError) {
      res.status(400).json({ reasons: [err.toJSON()] });
    } else if (e.type === 'entity.too.large') {
      res.status(413).json({ reasons: [{ code: 'BODY_TOO_LARGE', message: `the request body is larger than ${options.bodyLimitBytes} bytes` }] });
    } else if (e.type === 'entity.parse.failed') {
      res.status(400).json({ reasons: [{ code: 'REQUEST_NOT_JSON', message: 'the request body is not valid JSON' }] });
    } else if (e.type === 'request.aborted' || e.type === 'request.size.invalid' || e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      // A body that cannot be read as sent (e.g. charset=latin1): the caller's fault, as on /v1/gate.
      res.status(400).json({ reasons: [{ code: 'REQUEST_UNREADABLE', message: `the request body could not be read (${e.type})` }] });
    } else {
      logger.error({ err: e.message }, 'unexpected admission error');
      res.status(500).json({ reasons: [{ code: 'INTERNAL_ERROR', message: 'internal error' }] });
    }
  });
  app.use((_req, res) => {
    res.status(404).json({ reasons: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
  });
  return app;
}
