import type { AuditRecord } from '../record.js';

/** Small readers over an untrusted parsed record, shared by the CSV and OCSF mappings. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export const callerOf = (r: AuditRecord) => obj(r.caller);

export function reasonCodes(r: AuditRecord): string[] {
  return arr(r.reasons).flatMap((x) => {
    const code = str(obj(x)?.code);
    return code ? [code] : [];
  });
}

export function signerOf(r: AuditRecord): string | undefined {
  const s = obj(r.signer);
  if (!s) return undefined;
  return str(s.fingerprint) ?? str(s.identity) ?? str(s.subject) ?? str(s.keyId) ?? str(s.principal);
}

export function policyRefs(r: AuditRecord, key: 'failures' | 'auditFailures' | 'exceptionsUsed'): string[] {
  return arr(obj(r.policy)?.[key]).flatMap((x) => {
    const o = obj(x);
    if (!o) return [];
    const name = [str(o.exception), str(o.policy), str(o.rule)].filter(Boolean).join('/');
    return name ? [name] : [];
  });
}

export function secretsOf(r: AuditRecord): string[] {
  return arr(r.secrets).flatMap((x) => {
    const o = obj(x);
    const name = str(o?.name);
    if (!o || !name) return [];
    const keys = arr(o.keys).filter((k): k is string => typeof k === 'string');
    return [`${str(o.namespace) ? `${str(o.namespace)}/` : ''}${name}:${keys.join('+')}`];
  });
}

export function applicationName(r: AuditRecord): string | undefined {
  const a = obj(r.application);
  if (!a) return undefined;
  const name = str(a.name);
  const ns = str(a.namespace);
  return name ? (ns ? `${ns}/${name}` : name) : undefined;
}

export function destinationOf(r: AuditRecord): string | undefined {
  const d = obj(r.destination) ?? obj(obj(r.application)?.destination);
  if (!d) return undefined;
  const where = str(d.server) ?? str(d.name);
  const ns = str(d.namespace);
  return [where, ns].filter(Boolean).join('/') || undefined;
}
