import { SyncgateError } from '../errors.js';
import { evaluate } from '../policy/engine.js';
import { findException } from '../policy/exceptions.js';
import { policyMode, type ModeSettings, type PolicyMode } from '../policy/modes.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { PolicyResult } from '../policy/types.js';
import type { Reason } from './decision.js';
import { PolicyResultCache } from './manifest-cache.js';
import { describeManifest, type Manifest } from './manifests.js';

export interface PolicyFinding {
  policy: string;
  rule: string;
  mode: PolicyMode;
  status: 'fail' | 'error';
  severity?: string;
  resource: ReturnType<typeof describeManifest>;
  message: string;
  /** Set when the finding was waived by an exception. */
  exception?: { name: string; owner: string; reason: string; expires: string; file: string };
}

export interface PolicyEvidence {
  /** Generation of the policy set in force, and when it was loaded. */
  generation: number;
  loadedAt: string;
  policies: number;
  counts: { pass: number; fail: number; error: number; skip: number };
  /** Enforce-mode fails and errors: these deny. */
  failures: PolicyFinding[];
  /** Audit-mode fails and errors: recorded, not denied. */
  auditFailures: PolicyFinding[];
  /** Fails waived by an unexpired exception. */
  exceptionsUsed: PolicyFinding[];
}

export interface PolicyStageOptions {
  modes: ModeSettings;
  bindings: Record<string, unknown>;
  now: Date;
}

/** The values of a plain Secret's `data` (encoded and decoded) and `stringData`: never to be quoted. */
function secretValues(object: Record<string, unknown>): string[] {
  if (object.apiVersion !== 'v1' || object.kind !== 'Secret') return [];
  const values: string[] = [];
  for (const field of ['data', 'stringData'] as const) {
    const map = object[field];
    if (map === null || typeof map !== 'object') continue;
    for (const v of Object.values(map)) {
      if (typeof v !== 'string' || v === '') continue;
      values.push(v);
      if (field === 'data') values.push(Buffer.from(v, 'base64').toString('utf8'));
    }
  }
  return values.filter((v) => v !== '');
}

/**
 * A rule's message as a finding may carry it: violations quote the value they found, and for a
 * plain Secret that value is the secret (the message goes to the answer, the audit record and
 * admission warnings). Values are replaced; a message quoting a value too short to replace
 * safely is withheld whole.
 */
function withoutSecretValues(message: string, object: Record<string, unknown>): string {
  let out = message;
  for (const v of secretValues(object).sort((a, b) => b.length - a.length)) {
    if (!out.includes(v)) continue;
    if (v.length < 4) return 'the rule failed on a Secret; its message is withheld because it quotes the Secret\'s data';
    out = out.split(v).join('[redacted]');
  }
  return out;
}

function finding(r: PolicyResult, mode: PolicyMode, manifest: Manifest): PolicyFinding {
  return {
    policy: r.policy,
    rule: r.rule,
    mode,
    status: r.status as 'fail' | 'error',
    ...(r.severity ? { severity: r.severity } : {}),
    resource: describeManifest(manifest),
    message: withoutSecretValues(r.message ?? (r.status === 'fail' ? 'the rule failed' : 'the rule could not be evaluated'), manifest.object),
  };
}

function reasonFor(f: PolicyFinding): Reason {
  const { kind, namespace, name, document } = f.resource;
  const where = `${kind} ${namespace ? `${namespace}/` : ''}${name ?? '(unnamed)'}`;
  return {
    code: f.status === 'fail' ? 'POLICY_FAILED' : 'POLICY_ERROR',
    message: `${f.policy}/${f.rule}: ${where}: ${f.message}`,
    location: { document },
  };
}

/** The applicable (rule, resource) pairs of a decision: passes counted, the rest kept whole. */
interface Evaluated {
  passes: number;
  /** fail and error results, in evaluation order */
  others: PolicyResult[];
}

function split(results: readonly PolicyResult[], into: Evaluated, index?: number): void {
  for (const r of results) {
    if (r.status === 'pass') into.passes++;
    else into.others.push(index === undefined ? r : { ...r, resourceIndex: index, ...(typeof r.resource === 'number' ? { resource: index } : {}) });
  }
}

const DETERMINISTIC = new WeakMap<PolicySet, boolean>();

/**
 * Whether the set's results are a function of the resource: `random()` is not (the clock is
 * caught per evaluation, see below). Judged on the policy text, so a mention anywhere (even in
 * a message) turns the cache off for the set: cautious, and rare.
 */
function deterministic(set: PolicySet): boolean {
  let d = DETERMINISTIC.get(set);
  if (d === undefined) {
    d = !set.policies.some((p) => /\brandom\s*\(/.test(JSON.stringify(p.raw)));
    DETERMINISTIC.set(set, d);
  }
  return d;
}

/**
 * The same results as one `evaluate` over all manifests, in resource order, with each shared
 * (cached) object's results taken from the cache when present. A shared object not found is
 * evaluated alone, and its results kept, only if no rule read the clock and none ended in an
 * error; objects that are not shared (nothing would find them again) are evaluated together.
 */
function evaluateThroughCache(set: PolicySet, manifests: Manifest[], options: PolicyStageOptions, cache: PolicyResultCache): Evaluated {
  const byResource: Evaluated[] = manifests.map(() => ({ passes: 0, others: [] }));
  const unshared: Manifest[] = [];
  const keep = deterministic(set);
  for (const m of manifests) {
    const mine = byResource[m.index]!;
    const cached = keep ? cache.get(set, m.object) : undefined;
    if (cached) {
      mine.passes = cached.passes;
      split(cached.others, mine, m.index);
      continue;
    }
    if (!keep || !PolicyResultCache.cacheable(m.object)) {
      unshared.push(m);
      continue;
    }
    let clockRead = false;
    const now = () => {
      clockRead = true;
      return options.now;
    };
    const results = evaluate(set.policies, [m.object], { bindings: options.bindings, includeSkipped: false, now });
    if (!clockRead && results.every((r) => r.status !== 'error')) {
      const own: Evaluated = { passes: 0, others: [] };
      split(results, own);
      cache.put(set, m.object, own);
    }
    split(results, mine, m.index);
  }
  if (unshared.length > 0) {
    const results = evaluate(
      set.policies,
      unshared.map((m) => m.object),
      { bindings: options.bindings, includeSkipped: false, now: () => options.now },
    );
    for (const r of results) {
      const m = unshared[r.resourceIndex]!;
      split([r], byResource[m.index]!, m.index);
    }
  }
  const out: Evaluated = { passes: 0, others: [] };
  for (const e of byResource) {
    out.passes += e.passes;
    for (const r of e.others) out.others.push(r);
  }
  return out;
}

/**
 * Stage: every loaded policy on every manifest. Enforce-mode fails and errors deny unless an
 * unexpired exception covers a fail; audit-mode ones are only recorded. Errors are never waived.
 */
export function evaluatePolicies(set: PolicySet, manifests: Manifest[], options: PolicyStageOptions, cache?: PolicyResultCache): { evidence: PolicyEvidence; reasons: Reason[] } {
  let evaluated: Evaluated;
  if (cache) evaluated = evaluateThroughCache(set, manifests, options, cache);
  else {
    evaluated = { passes: 0, others: [] };
    split(evaluate(set.policies, manifests.map((m) => m.object), { bindings: options.bindings, includeSkipped: false, now: () => options.now }), evaluated);
  }
  const modeOf = new Map(set.policies.map((p) => [p.name, policyMode(p, options.modes)]));
  const evidence: PolicyEvidence = {
    generation: set.generation,
    loadedAt: set.loadedAt.toISOString(),
    policies: set.policies.length,
    counts: { pass: evaluated.passes, fail: 0, error: 0, skip: 0 },
    failures: [],
    auditFailures: [],
    exceptionsUsed: [],
  };
  for (const r of evaluated.others) {
    evidence.counts[r.status]++;
    if (r.status !== 'fail' && r.status !== 'error') continue;
    const manifest = manifests[r.resourceIndex];
    if (!manifest) throw new SyncgateError('POLICY_INTERNAL_ERROR', `policy result for unknown resource index ${r.resourceIndex}`);
    const f = finding(r, modeOf.get(r.policy) ?? options.modes.defaultMode, manifest);
    const exception = r.status === 'fail' ? findException(set.exceptions, r.policy, r.rule, f.resource, options.now) : undefined;
    if (exception) {
      f.exception = { name: exception.name, owner: exception.owner, reason: exception.reason, expires: exception.expires.toISOString(), file: exception.file };
      evidence.exceptionsUsed.push(f);
    } else if (f.mode === 'enforce') {
      evidence.failures.push(f);
    } else {
      evidence.auditFailures.push(f);
    }
  }
  const applicable = evaluated.passes + evaluated.others.length;
  evidence.counts.skip = set.policies.reduce((n, p) => n + p.rules.length, 0) * manifests.length - applicable;
  return { evidence, reasons: evidence.failures.map(reasonFor) };
}

/** `apiVersion/Kind/namespace/name` of a finding's resource, as the audit log writes it. */
export function resourceRef(f: PolicyFinding): string {
  const r = f.resource;
  return [r.apiVersion, r.kind, r.namespace ?? '', r.name ?? `#${r.document}`].join('/');
}

/** The policy evidence as the audit record carries it (docs/audit.md §2.2). */
export function auditPolicyEvidence(e: PolicyEvidence) {
  const ref = (f: PolicyFinding) => ({
    policy: f.policy,
    rule: f.rule,
    resource: resourceRef(f),
    document: f.resource.document,
    status: f.status,
    mode: f.mode,
    ...(f.severity ? { severity: f.severity } : {}),
    message: f.message,
  });
  return {
    generation: e.generation,
    counts: e.counts,
    failures: e.failures.map(ref),
    auditFailures: e.auditFailures.map(ref),
    exceptionsUsed: e.exceptionsUsed.map((f) => ({
      exception: f.exception!.name,
      policy: f.policy,
      rule: f.rule,
      owner: f.exception!.owner,
      expires: f.exception!.expires,
      resource: resourceRef(f),
    })),
  };
}
