import type { AuditRecord } from '../record.js';
import { applicationName, arr, callerOf, destinationOf, obj, policyRefs, reasonCodes, secretsOf, signerOf, str } from './fields.js';
import { VERSION } from '../../package-root.js';

/** OCSF schema version the mapping follows (docs/audit.md §8.3). */
export const OCSF_VERSION = '1.3.0';
export const OCSF_API_ACTIVITY = { class_uid: 6003, class_name: 'API Activity', category_uid: 6, category_name: 'Application Activity' } as const;

const ACTIVITY: Record<string, { id: number; name: string }> = {
  'audit.export': { id: 2, name: 'Read' },
};
const OTHER = { id: 99, name: 'Other' };

/** severity_id: 1 Informational, 2 Low, 3 Medium, 4 High. */
function severity(r: AuditRecord): { id: number; name: string } {
  if (r.type === 'audit.repaired') return { id: 4, name: 'High' };
  if (r.type === 'auth.failed') return { id: 3, name: 'Medium' };
  if (r.type === 'decision' && r.outcome === 'deny') return { id: 3, name: 'Medium' };
  if (r.type === 'decision' && r.outcome === 'bad_request') return { id: 2, name: 'Low' };
  if (r.type === 'policy.exception.used') return { id: 2, name: 'Low' };
  return { id: 1, name: 'Informational' };
}

/** status_id: 1 Success, 2 Failure, 0 Unknown. */
function status(r: AuditRecord): { id: number; name: string } {
  if (r.type === 'auth.failed') return { id: 2, name: 'Failure' };
  if (r.type === 'decision') return r.outcome === 'allow' ? { id: 1, name: 'Success' } : { id: 2, name: 'Failure' };
  return { id: 1, name: 'Success' };
}

const clean = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;

/**
 * One record as an OCSF API Activity event (class_uid 6003). The record's own fields that have no
 * OCSF place travel in `unmapped`; `metadata.uid` is the record hash and `metadata.sequence` the
 * seq, so an OCSF consumer can still point at the exact chained record.
 */
export function toOcsf(r: AuditRecord, product: { version: string } = { version: VERSION }): Record<string, unknown> {
  const activity = ACTIVITY[r.type] ?? OTHER;
  const sev = severity(r);
  const st = status(r);
  const caller = callerOf(r);
  const codes = reasonCodes(r);
  const firstReason = obj(arr(r.reasons)[0]);
  const time = Date.parse(r.time);
  const remote = str(caller?.remoteAddress) ?? str(r.remoteAddress);
  const resources: Array<Record<string, unknown>> = [];
  if (str(r.repository) || str(r.revision)) resources.push(clean({ type: 'git.revision', name: str(r.repository), uid: str(r.revision) }));
  const app = applicationName(r);
  if (app) resources.push(clean({ type: 'application', name: app, data: clean({ destination: destinationOf(r) }) }));
  for (const s of secretsOf(r)) resources.push({ type: 'secret', name: s });
  return {
    ...OCSF_API_ACTIVITY,
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: OCSF_API_ACTIVITY.class_uid * 100 + activity.id,
    type_name: `${OCSF_API_ACTIVITY.class_name}: ${activity.name}`,
    time: Number.isNaN(time) ? 0 : time,
    severity_id: sev.id,
    severity: sev.name,
    status_id: st.id,
    status: st.name,
    ...(codes.length > 0 ? { status_code: codes[0], status_detail: str(firstReason?.message) } : {}),
    message: r.type === 'decision' ? `gate decision: ${str(r.outcome) ?? 'unknown'}` : r.type,
    actor: { user: clean({ name: str(caller?.identity) ?? 'syncgate', type: caller ? 'User' : 'System' }), app_name: 'syncgate' },
    api: clean({ operation: r.type, service: { name: 'syncgate' }, request: str(r.decisionId) ? { uid: str(r.decisionId) } : undefined }),
    src_endpoint: remote ? { ip: remote } : { name: 'syncgate' },
    ...(resources.length > 0 ? { resources } : {}),
    metadata: clean({
      version: OCSF_VERSION,
      product: { name: 'syncgate', vendor_name: 'syncgate', version: product.version },
      uid: r.hash,
      sequence: r.seq,
      correlation_uid: str(r.decisionId),
      log_name: 'syncgate-audit',
      original_time: r.time,
    }),
    unmapped: clean({
      prevHash: r.prevHash,
      requestDigest: str(r.requestDigest),
      signer: signerOf(r),
      reasonCodes: codes.length > 0 ? codes : undefined,
      policyFailures: policyRefs(r, 'failures'),
      policyAuditFailures: policyRefs(r, 'auditFailures'),
      exceptionsUsed: policyRefs(r, 'exceptionsUsed'),
    }),
  };
}
