import { AuditError, type ErrorLocation } from '../errors.js';
import { errnoOf } from './writer.js';

/** A record could not be made durable. `errno` is the system's code (ENOSPC, EIO, EROFS, ...). */
export class AuditWriteError extends AuditError {
  readonly errno: string;

  constructor(file: string, cause: unknown, what = 'write') {
    const errno = errnoOf(cause);
    super('AUDIT_WRITE_FAILED', `cannot ${what} the audit log ${file} (${errno})`, { file } satisfies ErrorLocation, { cause });
    this.errno = errno;
  }

  override toJSON() {
    return { ...super.toJSON(), errno: this.errno };
  }
}
