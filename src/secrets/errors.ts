import { ConfigError, InputError, SyncgateError, type ErrorLocation } from '../errors.js';

/** Stable codes for every sealing failure. Messages name objects and data keys, never values. */
export const SealErrorCode = {
  NotASecret: 'SEAL_NOT_A_SECRET',
  InvalidSecret: 'SEAL_INVALID_SECRET',
  InvalidSealedSecret: 'SEAL_INVALID_SEALED_SECRET',
  ValueTooLarge: 'SEAL_VALUE_TOO_LARGE',
  EmptySecret: 'SEAL_EMPTY_SECRET',
  MergeMismatch: 'SEAL_MERGE_MISMATCH',
  Truncated: 'SEAL_TRUNCATED',
  UnsupportedVersion: 'SEAL_UNSUPPORTED_VERSION',
  UnknownKeyId: 'SEAL_UNKNOWN_KEY_ID',
  Tampered: 'SEAL_TAMPERED',
  ScopeMismatch: 'SEAL_SCOPE_MISMATCH',
  KeyInvalid: 'SEAL_KEY_INVALID',
  KeyReadFailed: 'SEAL_KEY_READ_FAILED',
  KeyIdMismatch: 'SEAL_KEY_ID_MISMATCH',
  NoKeys: 'SEAL_NO_KEYS',
  AmbiguousActiveKey: 'SEAL_AMBIGUOUS_ACTIVE_KEY',
  DuplicateKey: 'SEAL_DUPLICATE_KEY',
  BitnamiNoKeyCouldDecrypt: 'BITNAMI_NO_KEY_COULD_DECRYPT',
  BitnamiUnsupported: 'BITNAMI_UNSUPPORTED',
} as const;
export type SealErrorCode = (typeof SealErrorCode)[keyof typeof SealErrorCode];

/** A sealed value that cannot be opened (or sealed): maps to a deny in the gate. */
export class SealError extends SyncgateError {
  declare readonly code: SealErrorCode;
  /** `namespace/name` of the SealedSecret, when known. */
  readonly object: string | undefined;
  /** The data key whose value failed, when known. */
  readonly dataKey: string | undefined;

  constructor(code: SealErrorCode, message: string, detail: { object?: string; dataKey?: string; location?: ErrorLocation } = {}) {
    super(code, message, detail.location);
    this.object = detail.object;
    this.dataKey = detail.dataKey;
  }
}

export function inputError(code: SealErrorCode, message: string, path?: string): InputError {
  return new InputError(code, message, path === undefined ? undefined : { path });
}

export function keyError(code: SealErrorCode, message: string, file?: string): ConfigError {
  return new ConfigError(code, message, file === undefined ? undefined : { file });
}
