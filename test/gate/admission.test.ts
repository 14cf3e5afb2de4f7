import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditRecord } from '../../src/audit/record.js';
import { reviewAdmission } from '../../src/gate/admission.js';
import type { GateDependencies } from '../../src/gate/types.js';

const request = {
  uid: 'u1',
  kind: { group: '', version: 'v1', kind: 'ConfigMap' },
  namespace: 'apps',
  name: 'c',
  operation: 'CREATE' as const,
  object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'apps' } },
};

function deps(append: (e: AuditEvent) => Promise<AuditRecord>): GateDependencies {
  const policies = { policies: [], exceptions: [], loadedAt: new Date(), generation: 1 };
  return {
    verifier: () => undefined,
    policies: () => policies,
    policyOptions: { modes: { defaultMode: 'enforce', overrides: {} }, bindings: {} },
    audit: { append },
    limits: { manifests: 10, manifestNodes: 1000, manifestDepth: 10, decisionTimeoutMs: 1000 },
  };
}

describe('reviewAdmission', () => {
  it('denies within the deadline when the audit write hangs (a stalled disk must not hang the API server)', async () => {
    const started = Date.now();
    const review = await reviewAdmission(request, { identity: 'test' }, deps(() => new Promise(() => {})), 300);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(review.response).toMatchObject({ uid: 'u1', allowed: false, status: { code: 403, reason: 'AUDIT_TIMEOUT' } });
  });

  it('denies when the audit write fails', async () => {
    const review = await reviewAdmission(request, { identity: 'test' }, deps(() => Promise.reject(new Error('EIO'))), 300);
    expect(review.response).toMatchObject({ allowed: false, status: { reason: 'AUDIT_WRITE_FAILED' } });
  });
});
