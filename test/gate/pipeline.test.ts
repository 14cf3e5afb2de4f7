import { describe, expect, it } from 'vitest';
import { AuditError } from '../../src/errors.js';
import { computeObjectId } from '../../src/git/object-id.js';
import { runGate } from '../../src/gate/pipeline.js';
import type { GateDependencies, ObjectSignatureVerifier } from '../../src/gate/types.js';
import { memoryAudit } from '../helpers/memory-audit.js';

// The pipeline's own behaviour (deadlines, audit failure), with the signature stage replaced:
// the real verifier is exercised over HTTP in gate-http.test.ts.
const commit = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n\nmsg\n');
const revision = computeObjectId('commit', commit, 'sha1');
const body = { revision, commit: commit.toString('utf8'), manifests: [] };
const caller = { identity: 'test' };
const limits = { manifests: 10, manifestNodes: 1000, manifestDepth: 10, decisionTimeoutMs: 200 };

const verifiedBy = (delayMs = 0): ObjectSignatureVerifier => ({
  verifyObject: async () => {
    await new Promise((r) => setTimeout(r, delayMs));
    return { verified: true, oid: revision, method: 'openpgp', signer: { method: 'openpgp', fingerprint: 'F'.repeat(40) } };
  },
});

function deps(verifier: ObjectSignatureVerifier | undefined, audit = memoryAudit()): GateDependencies & { audit: ReturnType<typeof memoryAudit> } {
  const emptyPolicies = { policies: [], exceptions: [], loadedAt: new Date(), generation: 1 };
  return {
    verifier: () => verifier,
    policies: () => emptyPolicies,
    policyOptions: { modes: { defaultMode: 'enforce', overrides: {} }, bindings: {} },
    audit,
    limits,
  };
}

describe('runGate', () => {
  it('allows when every stage passes, and records the decision first', async () => {
    const d = deps(verifiedBy());
    const decision = await runGate(body, caller, d);
    expect(decision).toMatchObject({ allowed: true, outcome: 'allow', audit: { seq: 1 } });
    expect(d.audit.records[0]).toMatchObject({ type: 'decision', decisionId: decision.decisionId, outcome: 'allow' });
    expect(Object.keys(decision.timings)).toEqual(['request', 'input', 'objects', 'revision', 'signature', 'policy', 'secrets', 'record']);
  });

  it('denies when the audit record cannot be written, even if everything else allowed', async () => {
    const decision = await runGate(body, caller, deps(verifiedBy(), memoryAudit(new AuditError('AUDIT_WRITE_FAILED', 'disk full (ENOSPC)'))));
    expect(decision.allowed).toBe(false);
    expect(decision.outcome).toBe('deny');
    expect(decision.audit).toBeNull();
    expect(decision.reasons.at(-1)).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
  });

  it('denies with DECISION_TIMEOUT when a stage outlives the deadline, and still records it', async () => {
    const d = deps(verifiedBy(1_000));
    const started = Date.now();
    const decision = await runGate(body, caller, d);
    expect(Date.now() - started).toBeLessThan(900);
    expect(decision).toMatchObject({ allowed: false, outcome: 'deny', reasons: [{ code: 'DECISION_TIMEOUT' }] });
    expect(d.audit.records).toHaveLength(1);
  });

  it('says when the stages are done with the body only once they settle, after the answer when a deadline came first', async () => {
    let settledAt = 0;
    const decision = await runGate(body, caller, deps(verifiedBy(400)), { onStagesSettled: () => (settledAt = Date.now()) });
    const answeredAt = Date.now();
    expect(decision.reasons).toEqual([expect.objectContaining({ code: 'DECISION_TIMEOUT' })]);
    expect(settledAt).toBe(0);
    await new Promise((r) => setTimeout(r, 400));
    expect(settledAt).toBeGreaterThan(answeredAt);

    let calls = 0;
    await runGate(body, caller, deps(verifiedBy()), { onStagesSettled: () => calls++ });
    await runGate({ revision: 'not a revision' }, caller, deps(verifiedBy()), { onStagesSettled: () => calls++ });
    expect(calls).toBe(2);
  });

  it('answers a deny within the deadline when the body digest never comes (a stuck thread pool), and records null for one that failed', async () => {
    const started = Date.now();
    const stuck = await runGate(body, caller, deps(verifiedBy()), { requestDigest: new Promise<string>(() => {}) });
    expect(Date.now() - started).toBeLessThan(900);
    expect(stuck).toMatchObject({ allowed: false, outcome: 'deny', audit: null });
    expect(stuck.reasons.at(-1)).toMatchObject({ code: 'AUDIT_TIMEOUT' });

    const d = deps(verifiedBy());
    const failed = await runGate(body, caller, d, { requestDigest: Promise.resolve(null) });
    expect(failed).toMatchObject({ allowed: true });
    expect(d.audit.records[0]).toMatchObject({ type: 'decision', requestDigest: null });
  });

  it('denies with TRUST_NOT_LOADED while there is no verifier', async () => {
    const decision = await runGate(body, caller, deps(undefined));
    expect(decision.reasons).toEqual([expect.objectContaining({ code: 'TRUST_NOT_LOADED' })]);
  });

  it('turns a verifier that throws into a deny', async () => {
    const broken: ObjectSignatureVerifier = {
      verifyObject: async () => {
        throw new Error('boom');
      },
    };
    const decision = await runGate(body, caller, deps(broken));
    expect(decision).toMatchObject({ allowed: false, outcome: 'deny', reasons: [{ code: 'INTERNAL_ERROR' }] });
  });
});
