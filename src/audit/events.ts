import type { AuditEvent } from './record.js';

/**
 * The typed shape of a decision record's event part (docs/audit.md §2.2). Every field the
 * compliance issue lists has a place here; stages that do not exist yet leave theirs empty.
 */
export interface DecisionEvent extends AuditEvent {
  type: 'decision';
  decisionId: string;
  caller: { identity: string; remoteAddress?: string };
  outcome: 'allow' | 'deny' | 'bad_request';
  allowed: boolean;
  /** Reason codes with their messages (and locations), in the order they were found. */
  reasons: Array<{ code: string; message: string; location?: unknown }>;
  repository: string | null;
  revision: string | null;
  application: Record<string, unknown> | null;
  /** Where the application syncs to (Argo CD destination server/namespace, Flux target namespace). */
  destination?: { server?: string; name?: string; namespace?: string } | null;
  signer: Record<string, unknown> | null;
  verifications?: unknown[];
  policy?: PolicyEvidence | null;
  secrets?: DeliveredSecret[];
  /** sha256 of the request body as received ("sha256:<hex>"). */
  requestDigest: string | null;
}

export interface PolicyResultRef {
  policy: string;
  rule: string;
  resource?: string;
  message?: string;
}

export interface PolicyEvidence {
  /** Enforce-mode failures: any one denies. */
  failures: PolicyResultRef[];
  /** Audit-mode failures: recorded, not denied. */
  auditFailures: PolicyResultRef[];
  /** Exceptions that turned a failure into a pass. */
  exceptionsUsed: Array<{ exception: string; policy: string; rule: string; owner?: string; expires?: string; resource?: string }>;
}

/** A Secret the gate delivered: names only, never values. */
export interface DeliveredSecret {
  namespace: string | null;
  name: string;
  keys: string[];
}

/**
 * Projects whatever a caller passes as delivered secrets onto namespace/name/keys. Anything
 * else (a `data` map, `stringData`, values) is dropped here, so no value can reach the log even
 * if a caller hands over a whole Secret object.
 */
export function deliveredSecrets(input: unknown): DeliveredSecret[] {
  if (!Array.isArray(input)) return [];
  return input.flatMap((s): DeliveredSecret[] => {
    if (s === null || typeof s !== 'object') return [];
    const o = s as Record<string, unknown>;
    const meta = (o.metadata ?? {}) as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : typeof meta.name === 'string' ? meta.name : undefined;
    if (!name) return [];
    const ns = typeof o.namespace === 'string' ? o.namespace : typeof meta.namespace === 'string' ? meta.namespace : null;
    let keys: string[] = [];
    if (Array.isArray(o.keys)) keys = o.keys.filter((k): k is string => typeof k === 'string');
    else if (o.data && typeof o.data === 'object') keys = Object.keys(o.data);
    return [{ namespace: ns, name, keys: [...new Set(keys)].sort() }];
  });
}

/**
 * Applied by the log to every event before sealing: the `secrets` field of any event is reduced
 * to names (see deliveredSecrets). Other fields pass unchanged.
 */
export function sanitizeEvent(event: AuditEvent): AuditEvent {
  if (!('secrets' in event) || event.secrets === undefined || event.secrets === null) return event;
  return { ...event, secrets: deliveredSecrets(event.secrets) };
}

