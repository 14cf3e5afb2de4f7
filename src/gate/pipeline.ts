import { randomUUID } from 'node:crypto';
import { SyncgateError, asSyncgateError } from '../errors.js';
import type { SignerEvidence } from '../signatures/types.js';
import { withDeadline } from './deadline.js';
import { EscapedYaml } from './escaped-yaml.js';
import type { Decision, Outcome, Reason, VerificationSummary } from './decision.js';
import { parseManifests, type Manifest } from './manifests.js';
import { loadObjects, type GateObjects } from './objects.js';
import { Denial } from './denial.js';
import { auditPolicyEvidence, evaluatePolicies, type PolicyEvidence } from './policy-stage.js';
import { deliverSecrets, type SecretsOutcome } from './secrets-stage.js';
import { parseGateRequest, type GateRequest } from './request.js';
import { checkRevision } from './revision.js';
import type { Caller, GateDependencies } from './types.js';

/** Everything a decision accumulates on its way through the stages. */
interface Work {
  decisionId: string;
  request?: GateRequest;
  manifests?: Manifest[];
  objects?: GateObjects;
  verifications: VerificationSummary[];
  signer: SignerEvidence | null;
  policy?: PolicyEvidence;
  secrets?: SecretsOutcome;
  reasons: Reason[];
  outcome: Outcome;
  timings: Record<string, number>;
}

function reasonOf(err: SyncgateError): Reason {
  return err.location ? { code: err.code, message: err.message, location: err.location } : { code: err.code, message: err.message };
}

async function timed<T>(work: Work, deps: GateDependencies, stage: string, fn: () => Promise<T> | T): Promise<T> {
  const start = process.hrtime.bigint();
  try {
    return await fn();
  } finally {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    work.timings[stage] = Math.round(seconds * 1e6) / 1e3;
    deps.observeStage?.(stage, seconds);
  }
}

/** Stage 3: which signatures must verify, by mode (Flux: HEAD, Tag, TagAndHEAD). */
async function verifySignatures(work: Work, deps: GateDependencies): Promise<void> {
  const verifier = deps.verifier();
  if (!verifier) throw new SyncgateError('TRUST_NOT_LOADED', 'the gate has no trust material loaded yet; every sync is denied until it has');
  const { request, objects } = work as Required<Pick<Work, 'request' | 'objects'>>;
  const targets: Array<{ object: 'commit' | 'tag'; raw: Buffer }> = [];
  if (request.verify !== 'tag') targets.push({ object: 'commit', raw: objects.commit });
  if (request.verify !== 'head' && objects.tag) targets.push({ object: 'tag', raw: objects.tag });
  if (targets.length === 0 || (request.verify !== 'head' && !objects.tag)) {
    throw new SyncgateError('NOTHING_TO_VERIFY', `verify=${request.verify} has no object to verify`);
  }

  for (const t of targets) {
    const result = await verifier.verifyObject({
      raw: t.raw,
      kind: t.object,
      ...(request.repository !== undefined ? { repository: request.repository } : {}),
      now: deps.clock?.() ?? new Date(),
    });
    work.verifications.push({
      object: t.object,
      oid: result.oid,
      verified: result.verified,
      method: result.method,
      signer: result.signer ?? null,
      reason: result.reason ?? null,
    });
    if (result.verified && result.signer) {
      // In Tag mode the tag's signer decides; in TagAndHEAD both must verify and the tag's is reported.
      work.signer = result.signer;
    } else {
      const code = result.reason?.code ?? 'BAD_SIGNATURE';
      throw new SyncgateError(code, `${t.object} ${result.oid}: ${result.reason?.message ?? 'signature not verified'}`, { path: t.object });
    }
  }
}

/** Stage 4: the policies in force on every manifest. */
function applyPolicies(work: Work, deps: GateDependencies): void {
  const set = deps.policies();
  if (!set) throw new SyncgateError('POLICIES_NOT_LOADED', 'the gate has no policy set loaded yet; every sync is denied until it has');
  const { evidence, reasons } = evaluatePolicies(set, work.manifests!, { ...deps.policyOptions, now: deps.clock?.() ?? new Date() }, deps.caches?.policyResults);
  work.policy = evidence;
  if (reasons.length > 0) throw new Denial(reasons);
}

async function runStages(work: Work, body: unknown, deps: GateDependencies, signal: AbortSignal): Promise<void> {
  const limits = deps.limits;
  // Stages 1-2 failing is a bad request (400); from stage 3 on a failure is a deny (403).
  try {
    work.request = await timed(work, deps, 'request', () => parseGateRequest(body));
    const request = work.request;
    // A re-render of a body seen before skips the split and the per-document hashes; the body's
    // digest is made on the thread pool meanwhile (app.ts), so waiting for it costs no CPU here
    // (and the decision's deadline bounds the wait, should the pool be stuck).
    const cache = deps.caches?.manifests;
    const digest = request.manifests instanceof EscapedYaml && cache && cache.maxBytes > 0 ? request.manifests.bodyDigest : undefined;
    const bodyDigest = digest ? ((await digest) ?? undefined) : undefined;
    work.manifests = await timed(work, deps, 'input', () => parseManifests(request.manifests, limits, cache, bodyDigest));
  } catch (err) {
    work.outcome = 'bad_request';
    throw err;
  }
  work.objects = await timed(work, deps, 'objects', () => loadObjects(work.request!));
  await timed(work, deps, 'revision', () => checkRevision(work.request!, work.objects!));
  await timed(work, deps, 'signature', () => verifySignatures(work, deps));
  await timed(work, deps, 'policy', () => applyPolicies(work, deps));
  // Only an otherwise allowed sync gets its secrets unsealed and delivered.
  work.secrets = await timed(work, deps, 'secrets', () => deliverSecrets(work.manifests!, deps.sealing, work.request!.application, signal));
}

// One shared reason (thrown by a stage that outlived its decision, and logged at most): a new
// Error per decision would capture a stack trace every time for nothing.
const DECISION_SETTLED = Object.freeze(new SyncgateError('DECISION_SETTLED', 'the decision was already answered'));

/** SHA-256 of the request body (`sha256:<hex>`), or a promise of it; null when it could not be made. */
export type RequestDigest = string | null | Promise<string | null>;

/**
 * One decision: run the stages under a deadline, then record the outcome durably before
 * returning it. Any failure anywhere (including the record) ends in a deny.
 */
export async function runGate(
  body: unknown,
  caller: Caller,
  deps: GateDependencies,
  extra: { requestDigest?: RequestDigest; /** called once the stages are done with `body`, even after a deadline */ onStagesSettled?: () => void } = {},
): Promise<Decision> {
  const work: Work = {
    decisionId: randomUUID(),
    verifications: [],
    signer: null,
    reasons: [],
    outcome: 'deny',
    timings: {},
  };
  // Aborted as soon as the outcome is settled: stages that outlive the deadline (a slow API
  // server) must not start side effects (Secret writes, deletes) for a decision answered as a deny.
  const settled = new AbortController();
  try {
    const stages = runStages(work, body, deps, settled.signal);
    const onSettled = extra.onStagesSettled;
    if (onSettled) {
      const settle = () => {
        try {
          onSettled();
        } catch {
          // giving a buffer back must not become an unhandled rejection
        }
      };
      stages.then(settle, settle);
    }
    await withDeadline(stages, deps.limits.decisionTimeoutMs, 'DECISION_TIMEOUT', 'the decision');
    work.outcome = 'allow';
  } catch (err) {
    if (work.outcome !== 'bad_request') work.outcome = 'deny';
    if (err instanceof Denial) work.reasons.push(...err.reasons);
    else work.reasons.push(reasonOf(asSyncgateError(err)));
  } finally {
    settled.abort(DECISION_SETTLED);
  }
  return record(work, caller, deps, extra.requestDigest);
}

/** Records a request that never reached the pipeline (unparsable body, too large) as a decision. */
export async function rejectRequest(err: SyncgateError, caller: Caller, deps: GateDependencies, outcome: Outcome = 'bad_request'): Promise<Decision> {
  const work: Work = {
    decisionId: randomUUID(),
    verifications: [],
    signer: null,
    reasons: [reasonOf(err)],
    outcome,
    timings: {},
  };
  return record(work, caller, deps, undefined);
}

async function record(work: Work, caller: Caller, deps: GateDependencies, requestDigest: RequestDigest | undefined): Promise<Decision> {
  const r = work.request;
  const decision: Decision = {
    decisionId: work.decisionId,
    allowed: work.outcome === 'allow',
    outcome: work.outcome,
    // Copies: a stage that outlived the deadline may still be running and must not change this.
    reasons: [...work.reasons],
    revision: r?.revision ?? null,
    repository: r?.repository ?? null,
    application: r?.application ?? null,
    signer: work.signer,
    verifications: [...work.verifications],
    manifests: work.manifests ? { count: work.manifests.length } : null,
    policy: work.policy ?? null,
    secrets: work.secrets ? { delivered: work.secrets.delivered, pruned: work.secrets.pruned } : null,
    audit: null,
    timings: {},
  };
  const policyRecord = decision.policy ? auditPolicyEvidence(decision.policy) : null;
  try {
    const rec = await timed(work, deps, 'record', () =>
      withDeadline(
        // the digest inside the deadline: it comes from the thread pool, which a stuck disk can hold
        (async () =>
          deps.audit.append({
            type: 'decision',
            decisionId: decision.decisionId,
            caller,
            outcome: decision.outcome,
            allowed: decision.allowed,
            reasons: decision.reasons,
            repository: decision.repository,
            revision: decision.revision,
            application: decision.application,
            verify: r?.verify ?? null,
            signer: decision.signer,
            verifications: decision.verifications,
            manifests: decision.manifests,
            policy: policyRecord,
            // The log keeps namespace/name/keys of each delivered Secret and drops anything else.
            secrets: decision.secrets?.delivered ?? [],
            secretsPruned: decision.secrets?.pruned ?? [],
            destination: r?.application?.destination ?? null,
            requestDigest: requestDigest === undefined ? null : await requestDigest,
          }))(),
        deps.limits.decisionTimeoutMs,
        'AUDIT_TIMEOUT',
        'writing the audit record',
      ),
    );
    decision.audit = { seq: rec.seq, hash: rec.hash };
  } catch (err) {
    const e = asSyncgateError(err, 'AUDIT_WRITE_FAILED');
    decision.allowed = false;
    if (decision.outcome === 'allow') decision.outcome = 'deny';
    decision.reasons.push({ code: e.code, message: `the decision could not be recorded, so it is a deny: ${e.message}` });
  }
  // Each exception used is also a security event of its own, queued after the decision it
  // belongs to. The decision record already holds them, so the answer does not wait for these.
  if (decision.audit) {
    for (const used of policyRecord?.exceptionsUsed ?? []) {
      void deps.audit.append({ type: 'policy.exception.used', decisionId: decision.decisionId, ...used }).catch(() => {});
    }
  }
  decision.timings = { ...work.timings };
  // Inline delivery (opt-in): the Secrets go in the answer only, after the record, and only on allow.
  if (decision.allowed && work.secrets && work.secrets.inline.length > 0) decision.inlineSecrets = work.secrets.inline;
  return decision;
}
