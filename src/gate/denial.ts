import { SyncgateError } from '../errors.js';
import type { Reason } from './decision.js';

/** A deny with several reasons at once (every policy failure, every SealedSecret that failed). */
export class Denial extends SyncgateError {
  constructor(readonly reasons: Reason[]) {
    super(reasons[0]?.code ?? 'DENIED', reasons[0]?.message ?? 'denied');
  }
}
