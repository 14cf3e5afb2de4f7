/** When the active file is rotated (docs/audit.md §5). Either limit may be left out. */
export interface RotationPolicy {
  /** Rotate before a write would take the active file past this many bytes. */
  maxBytes?: number;
  /** Rotate once the active file's first record is older than this. */
  maxAgeMs?: number;
}

export interface ActiveFileState {
  bytes: number;
  /** Time of the active file's first record (ms since the epoch), undefined when it is empty. */
  firstTimeMs: number | undefined;
}

/** True when the active file should be closed and renamed before `incomingBytes` are written. */
export function rotationDue(policy: RotationPolicy | undefined, state: ActiveFileState, incomingBytes: number, nowMs: number): boolean {
  if (!policy || state.bytes === 0 || state.firstTimeMs === undefined) return false;
  if (policy.maxBytes !== undefined && state.bytes + incomingBytes > policy.maxBytes) return true;
  if (policy.maxAgeMs !== undefined && nowMs - state.firstTimeMs >= policy.maxAgeMs) return true;
  return false;
}
