/**
 * Typed errors. Every failure that can reach a decision, a CLI exit or an HTTP answer carries a
 * stable machine-readable `code`, a human message and, where known, a location (file, document
 * index, field path). Messages must never contain secret material.
 */
export interface ErrorLocation {
  file?: string;
  document?: number;
  path?: string;
  line?: number;
}

export class SyncgateError extends Error {
  readonly code: string;
  readonly location: ErrorLocation | undefined;

  constructor(code: string, message: string, location?: ErrorLocation, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.location = location;
  }

  toJSON(): { code: string; message: string; location?: ErrorLocation } {
    return this.location ? { code: this.code, message: this.message, location: this.location } : { code: this.code, message: this.message };
  }
}

/** Bad input from a caller: maps to HTTP 400 / CLI exit 2. */
export class InputError extends SyncgateError {}

/** A configuration file or trust material that cannot be loaded. */
export class ConfigError extends SyncgateError {}

/** A raw git object that is not what it claims to be. */
export class GitObjectError extends SyncgateError {}

/** A signature that does not verify, or is not trusted. */
export class SignatureError extends SyncgateError {}

/** The audit record could not be made durable. */
export class AuditError extends SyncgateError {}

/** Wraps anything unexpected so it can still be reported with a code (fail closed). */
export function asSyncgateError(err: unknown, code = 'INTERNAL_ERROR'): SyncgateError {
  if (err instanceof SyncgateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SyncgateError(code, message, undefined, { cause: err });
}
