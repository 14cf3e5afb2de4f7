import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
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

const ADMISSION_PATH = '/v1/admission';

interface Answer {
  status: number;
  payload: unknown;
}

const notJson = (): Answer => ({ status: 400, payload: { reasons: [{ code: 'REQUEST_NOT_JSON', message: 'the request body is not valid JSON' }] } });

/** The answer to one parsed body: an AdmissionReview response, or a 400 for a body that is not an AdmissionReview v1. */
function admissionAnswerer(options: AdmissionAppOptions): (body: unknown, remoteAddress: string | undefined) => Promise<Answer> {
  const { gate, metrics, logger } = options;
  return async (body, remoteAddress) => {
    let request;
    try {
      request = parseAdmissionReview(body);
    } catch (err) {
      if (err instanceof InputError) return { status: 400, payload: { reasons: [err.toJSON()] } };
      throw err;
    }
    const review = await reviewAdmission(request, { identity: 'kube-apiserver', ...(remoteAddress ? { remoteAddress } : {}) }, gate, options.timeoutMs);
    const { allowed } = review.response;
    metrics.decisions.inc({ outcome: allowed ? 'admission_allow' : 'admission_deny', reason: review.response.status?.reason ?? 'none' });
    logger.info({ uid: request.uid, operation: request.operation, dryRun: request.dryRun === true, allowed, reason: review.response.status?.reason }, 'admission review');
    return { status: 200, payload: review };
  };
}

function send(res: ServerResponse, answer: Answer): void {
  const body = JSON.stringify(answer.payload);
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The request the API server sends, and nearly every one there is: a POST with a declared
 * length within the limit, not compressed, as application/json (at most `; charset=utf-8`).
 * Anything else goes through express and body-parser, which answer it as they always have.
 */
function isPlainAdmissionPost(req: IncomingMessage, limit: number): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  if (!(url === ADMISSION_PATH || url.startsWith(`${ADMISSION_PATH}?`))) return false; // the API server adds ?timeout=10s
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  // what the API server sends; any other media type or parameter is body-parser's to judge
  const type = req.headers['content-type']?.toLowerCase().replace(/[ \t]/g, '');
  if (type !== undefined && type !== 'application/json' && type !== 'application/json;charset=utf-8') return false;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  return req.headers['transfer-encoding'] === undefined && Number.isSafeInteger(declared) && declared > 0 && declared <= limit;
}

/** The body as body-parser's strict JSON parser reads it: UTF-8 (a BOM dropped), an object or an array. */
function parseStrictJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text === '') return { ok: true, value: {} }; // body-parser's answer to an empty body (here: a BOM alone)
  const first = /^[ \t\n\r]*([^ \t\n\r])/.exec(text)?.[1];
  if (first !== '{' && first !== '[') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * The HTTPS listener the API server calls: POST /v1/admission (ValidatingWebhook), plus probes.
 * The plain POST is read and answered here without express (measured: ~70-90 µs less CPU per
 * review over TLS, where a whole review costs a few hundred); everything else is the express app.
 */
export function createAdmissionApp(options: AdmissionAppOptions): RequestListener {
  const { logger, state } = options;
  const answer = admissionAnswerer(options);
  const failed = (res: ServerResponse, err: unknown) => {
    logger.error({ err: (err as Error).message }, 'unexpected admission error');
    if (!res.headersSent) send(res, { status: 500, payload: { reasons: [{ code: 'INTERNAL_ERROR', message: 'internal error' }] } });
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(createHealthRouter(state));
  app.post(ADMISSION_PATH, express.json({ limit: options.bodyLimitBytes, strict: true, type: () => true }), async (req, res) => {
    send(res, await answer(req.body, req.socket.remoteAddress));
  });
  // Bodies that cannot be read as JSON: 400 with a reason (the API server reports the call as failed).
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; message?: string };
    if (e.type === 'entity.too.large') {
      send(res, { status: 413, payload: { reasons: [{ code: 'BODY_TOO_LARGE', message: `the request body is larger than ${options.bodyLimitBytes} bytes` }] } });
    } else if (e.type === 'entity.parse.failed') {
      send(res, notJson());
    } else if (e.type === 'request.aborted' || e.type === 'request.size.invalid' || e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      // A body that cannot be read as sent (e.g. charset=latin1): the caller's fault, as on /v1/gate.
      send(res, { status: 400, payload: { reasons: [{ code: 'REQUEST_UNREADABLE', message: `the request body could not be read (${e.type})` }] } });
    } else {
      failed(res, err);
    }
  });
  app.use((_req, res) => {
    send(res, { status: 404, payload: { reasons: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] } });
  });

  return (req, res) => {
    if (!isPlainAdmissionPost(req, options.bodyLimitBytes)) {
      void app(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // (node's parser holds the body to its Content-Length; a client that goes away mid-body gets no answer)
    req.on('end', () => {
      const parsed = parseStrictJson(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      if (!parsed.ok) {
        send(res, notJson());
        return;
      }
      answer(parsed.value, req.socket.remoteAddress).then(
        (a) => send(res, a),
        (err: unknown) => failed(res, err),
      );
    });
  };
}
