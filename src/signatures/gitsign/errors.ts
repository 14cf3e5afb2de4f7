/** The typed error every gitsign step throws; its code is a stable SignatureReasonCode. */
import { SignatureError } from '../../errors.js';
import type { SignatureReasonCode } from '../types.js';

export class GitsignError extends SignatureError {
  declare readonly code: SignatureReasonCode;
  /** The answer may change (it came from a Rekor lookup): the outcome must not be cached. */
  transient = false;

  constructor(code: SignatureReasonCode, message: string, options?: { cause?: unknown }) {
    super(code, message, undefined, options);
  }
}
