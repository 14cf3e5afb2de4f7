import { SyncgateError } from '../errors.js';

/**
 * Failures talking to the Kubernetes API server. Messages name the operation and the object
 * (namespace/name) and the HTTP status, never a request or response body: a body may carry
 * Secret data, and the server's own message can echo it back.
 */
export const KubeErrorCode = {
  ConfigInvalid: 'KUBE_CONFIG_INVALID',
  Unreachable: 'KUBE_UNREACHABLE',
  Timeout: 'KUBE_TIMEOUT',
  Unauthorized: 'KUBE_UNAUTHORIZED',
  Forbidden: 'KUBE_FORBIDDEN',
  NotFound: 'KUBE_NOT_FOUND',
  Conflict: 'KUBE_CONFLICT',
  Invalid: 'KUBE_INVALID',
  Gone: 'KUBE_GONE',
  ServerError: 'KUBE_SERVER_ERROR',
  Unexpected: 'KUBE_UNEXPECTED_RESPONSE',
  NotOwned: 'KUBE_NOT_OWNED',
  KeySecretInvalid: 'KUBE_KEY_SECRET_INVALID',
} as const;
export type KubeErrorCode = (typeof KubeErrorCode)[keyof typeof KubeErrorCode];

export class KubeError extends SyncgateError {
  declare readonly code: KubeErrorCode;
  /** HTTP status when the server answered. */
  readonly status: number | undefined;
  /** The Kubernetes Status `reason` (e.g. Forbidden, AlreadyExists, Conflict), when given. */
  readonly reason: string | undefined;

  constructor(code: KubeErrorCode, message: string, detail: { status?: number; reason?: string } = {}) {
    super(code, message);
    this.status = detail.status;
    this.reason = detail.reason;
  }
}

/** What was being done, for messages: e.g. `apply Secret payments/db`. */
export interface KubeOperation {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
}

/** `apply secrets payments/db`, `list secrets in namespace syncgate`. */
export function describeOperation(op: KubeOperation): string {
  const target = op.name !== undefined ? `${op.namespace ?? ''}/${op.name}` : `in namespace ${op.namespace ?? '(all)'}`;
  return `${op.verb} ${op.resource} ${target}`;
}

const STATUS_REASONS = new Set([
  'BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'AlreadyExists', 'Conflict', 'Gone', 'Invalid',
  'ServerTimeout', 'Timeout', 'TooManyRequests', 'MethodNotAllowed', 'NotAcceptable', 'RequestEntityTooLarge',
  'UnsupportedMediaType', 'InternalError', 'Expired', 'ServiceUnavailable',
]);

/** Only the Status `reason` is taken from a body, and only when it is one of the documented words. */
export function statusReason(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const reason = typeof parsed === 'object' && parsed !== null ? (parsed as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' && STATUS_REASONS.has(reason) ? reason : undefined;
}

export function errorForStatus(status: number, op: KubeOperation, reason?: string): KubeError {
  const what = describeOperation(op);
  const because = reason ? ` (${reason})` : '';
  const detail = { status, ...(reason ? { reason } : {}) };
  switch (true) {
    case status === 401:
      return new KubeError(KubeErrorCode.Unauthorized, `${what}: the API server refused the credentials (HTTP 401)`, detail);
    case status === 403:
      return new KubeError(
        KubeErrorCode.Forbidden,
        `${what}: forbidden (HTTP 403); the service account needs RBAC permission to ${op.verb} ${op.resource} in namespace ${op.namespace ?? '(cluster)'}`,
        detail,
      );
    case status === 404:
      return new KubeError(KubeErrorCode.NotFound, `${what}: not found (HTTP 404)`, detail);
    case status === 409:
      return new KubeError(KubeErrorCode.Conflict, `${what}: conflict (HTTP 409)${because}`, detail);
    case status === 410:
      return new KubeError(KubeErrorCode.Gone, `${what}: resource version too old (HTTP 410)`, detail);
    case status === 400 || status === 415 || status === 422:
      return new KubeError(KubeErrorCode.Invalid, `${what}: the API server rejected the request (HTTP ${status})${because}`, detail);
    case status === 408 || status === 504:
      return new KubeError(KubeErrorCode.Timeout, `${what}: the API server timed out (HTTP ${status})`, detail);
    case status >= 500:
      return new KubeError(KubeErrorCode.ServerError, `${what}: API server error (HTTP ${status})${because}`, detail);
    default:
      return new KubeError(KubeErrorCode.Unexpected, `${what}: unexpected HTTP ${status}${because}`, detail);
  }
}

function errnoCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // errno (ECONNREFUSED), Node's own (ERR_TLS_CERT_ALTNAME_INVALID), OpenSSL's (DEPTH_ZERO_SELF_SIGNED_CERT).
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{2,63}$/.test(code)) return code;
  }
  return undefined;
}

function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    const code = (e as { code?: unknown }).code;
    if (code === 'ETIMEDOUT' || code === 'ABORT_ERR') return true;
  }
  return false;
}

/**
 * Maps a failed request (an error carrying an HTTP status `code` and a body, a socket error with
 * an errno `code` or a `cause`, an abort) to a KubeError. The original message is not used: it
 * can include a response body.
 */
export function toKubeError(err: unknown, op: KubeOperation): KubeError {
  if (err instanceof KubeError) return err;
  const status = (err as { code?: unknown; statusCode?: unknown })?.code ?? (err as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 100 && status < 600) return errorForStatus(status, op, statusReason((err as { body?: unknown }).body));
  if (isTimeout(err)) return new KubeError(KubeErrorCode.Timeout, `${describeOperation(op)}: no answer from the API server in time`);
  const code = errnoCode(err);
  return new KubeError(KubeErrorCode.Unreachable, `${describeOperation(op)}: cannot reach the API server${code ? ` (${code})` : ''}`);
}
