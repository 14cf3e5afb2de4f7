/**
 * Evaluation: every resource × every policy × every rule, in that order (kyverno-json `scan`).
 * Per (rule, resource): bindings (external, `$payload`, `$policy`, `$rule`, lazy context entries),
 * `match` then `exclude` (v0.0.3 semantics: `any` OR-ed, then AND-ed with `all`), then `assert`
 * (any/all), then the identifier. Every exception is an `error` result (fail closed); every
 * (rule, resource) has its own step/depth budget so runaway work ends in an error, never a hang.
 */
import { SyncgateError } from '../errors.js';
import { PolicyErrorCode } from './errors.js';
import { treeHolds, treeViolations } from './assertion/evaluate.js';
import { Bindings } from './jmespath/bindings.js';
import { Budget, DEFAULT_LIMITS, type BudgetLimits } from './jmespath/budget.js';
import { goSprint } from './jmespath/functions/gojson.js';
import type { JsonObject, JsonValue } from './jmespath/types.js';
import { jmespath, withClock } from './runtime.js';
import { renderTemplate } from './templates.js';
import { ResourceMemo } from './memo.js';
import { SEVERITY_ANNOTATION, type CompiledAssertion, type CompiledMatch, type CompiledRule, type Failure, type Violation, type LoadedPolicy, type PolicyResult } from './types.js';

export interface EvaluateOptions {
  /** external bindings (`--bindings`): each key `k` becomes `$k` */
  bindings?: Record<string, unknown>;
  /** budget per (rule, resource) */
  limits?: Partial<BudgetLimits>;
  /** report not-applicable (rule, resource) pairs as `skip` results (default true) */
  includeSkipped?: boolean;
  /** clock for time_now() & co. */
  now?: () => Date;
}

interface RuleOutcome {
  status: PolicyResult['status'];
  message?: string;
  errorCode?: string;
  failures?: Failure[];
}

function errorOutcome(err: unknown): RuleOutcome {
  if (err instanceof SyncgateError) return { status: 'error', errorCode: err.code, message: err.message };
  if (err instanceof RangeError) return { status: 'error', errorCode: PolicyErrorCode.BUDGET_EXCEEDED, message: `evaluation too deep: ${err.message}` };
  return { status: 'error', errorCode: PolicyErrorCode.INTERNAL, message: err instanceof Error ? err.message : String(err) };
}

/** match/exclude: (any empty OR some any-item holds) AND every all-item holds; errors propagate. */
function matches(m: CompiledMatch, resource: JsonValue, bindings: Bindings, budget: Budget, memo: ResourceMemo): boolean {
  if (m.memo !== undefined && memo.has(m.memo)) return memo.get(m.memo) === true;
  let ok = true;
  if (m.any.length > 0) {
    ok = false;
    for (const t of m.any) {
      if (treeHolds(t, resource, bindings, budget)) {
        ok = true;
        break;
      }
    }
  }
  if (ok) for (const t of m.all) if (!treeHolds(t, resource, bindings, budget)) ok = false;
  if (m.memo !== undefined) memo.set(m.memo, ok);
  return ok;
}

function failure(a: CompiledAssertion, violations: Violation[], resource: JsonValue, bindings: Bindings, budget: Budget): Failure {
  const message = a.message ? renderTemplate(a.message, jmespath, resource, bindings, budget) : '';
  return { message, check: a.checkPath, violations };
}

/** `(any empty OR some any holds) AND all hold`; failures of the part that decided. */
function assertRule(rule: CompiledRule, resource: JsonValue, bindings: Bindings, budget: Budget): Failure[] | undefined {
  let failures: Failure[] | undefined;
  const { any, all } = rule.assert;
  if (any.length > 0) {
    let satisfied = false;
    for (const a of any) {
      const v = treeViolations(a.check, resource, bindings, budget);
      if (v.length === 0) {
        satisfied = true;
        break;
      }
      (failures ??= []).push(failure(a, v, resource, bindings, budget));
    }
    if (!satisfied) return failures;
    failures = undefined;
  }
  for (let i = 0; i < all.length; i++) {
    const a = all[i] as CompiledAssertion;
    const v = treeViolations(a.check, resource, bindings, budget);
    if (v.length !== 0) (failures ??= []).push(failure(a, v, resource, bindings, budget));
  }
  return failures;
}

export function formatFailure(f: Failure): string {
  return f.message ? `${f.message} (CHECK=${f.check})` : `(CHECK=${f.check})`;
}

/** The current resource of an evaluation, for context entries bound once per call. */
interface EvalState {
  resource: JsonValue;
  /** increases with every resource */
  generation: number;
  budget: Budget;
  memo: ResourceMemo;
  /** forget what rules' own context entries computed for the last resource (run after each call) */
  forget: Array<() => void>;
}

/**
 * A rule's whole scope (externals < `$payload` < `$policy` < `$rule` < context entries), bound
 * once per call: `$payload` is a slot re-pointed at each resource, and context entries read the
 * current resource through `state`, lazily, at most once per resource (shared between rules
 * through the memo when they depend on the resource only), so nothing is allocated per
 * (rule, resource).
 */
function ruleScope(rule: CompiledRule, below: Bindings, state: EvalState): Bindings {
  let b = below;
  for (const entry of rule.context) {
    const value = entry.value;
    if (value.kind === 'literal') {
      b = b.with(entry.name, value.value);
      continue;
    }
    const before = b;
    const id = entry.memo;
    if (id !== undefined) {
      // shared by every rule with the same entries: once per resource
      b = b.withComputed(entry.name, () => {
        const memo = state.memo;
        if (memo.has(id)) return memo.get(id);
        const v = value.fn(state.resource, before, state.budget);
        memo.set(id, v);
        return v;
      });
      continue;
    }
    // this rule's own entry (it reads external bindings, $policy, $rule, the clock, …): at most
    // once per resource, an error remembered and raised at every reference, as a lazy binding
    let generation = -1;
    let cached: JsonValue = null;
    let failure: unknown;
    state.forget.push(() => {
      generation = -1;
      cached = null;
      failure = undefined;
    });
    b = b.withComputed(entry.name, () => {
      if (generation !== state.generation) {
        generation = state.generation;
        failure = undefined;
        try {
          cached = value.fn(state.resource, before, state.budget);
        } catch (err) {
          failure = err;
        }
      }
      if (failure !== undefined) throw failure;
      return cached;
    });
  }
  return b;
}

/** Evaluates one rule on one resource (its whole scope, context included, is `bindings`). Never throws. `undefined` = not applicable. */
function evaluateRule(rule: CompiledRule, resource: JsonValue, bindings: Bindings, budget: Budget, memo: ResourceMemo): RuleOutcome | undefined {
  try {
    if (rule.match && !matches(rule.match, resource, bindings, budget, memo)) return undefined;
    if (rule.exclude && matches(rule.exclude, resource, bindings, budget, memo)) return undefined;
    const failures = assertRule(rule, resource, bindings, budget);
    if (failures === undefined) return PASS;
    return { status: 'fail', failures, message: failures.map(formatFailure).join('; ') };
  } catch (err) {
    return errorOutcome(err);
  }
}

const PASS: RuleOutcome = Object.freeze({ status: 'pass' });
const SKIP: RuleOutcome = Object.freeze({ status: 'skip', message: 'not applicable (match/exclude)' });

/** The identifier as upstream prints it: Go `fmt.Sprint`; an error gives `(error: …)`. */
function identifierOf(rule: CompiledRule, resource: JsonValue, bindings: Bindings, budget: Budget): string {
  if (!rule.identifier) return '';
  try {
    const v = rule.identifier.fn(resource, bindings, budget);
    return typeof v === 'string' ? v : goSprint(v);
  } catch (err) {
    return `(error: ${err instanceof Error ? err.message : String(err)})`;
  }
}

function exposedPolicy(policy: LoadedPolicy): JsonObject {
  // `$policy.name` works upstream (Go struct field); keep it working on the JSON form
  return Object.hasOwn(policy.raw, 'name') ? policy.raw : { ...policy.raw, name: policy.name };
}

function toJson(v: unknown): JsonValue {
  return v === undefined ? null : (v as JsonValue);
}

/** Everything of an evaluation that does not depend on the resources: built once per (policies, bindings). */
interface Prepared {
  /** the policies it was built for, as they were then (an array changed in place is built again) */
  policies: LoadedPolicy[];
  bindings: Record<string, unknown> | undefined;
  /** the bindings' own entries as they were then (an object changed in place is built again) */
  bindingEntries: Array<[string, unknown]>;
  state: EvalState;
  slots: Array<{ set(value: JsonValue): void }>;
  ruleBases: Bindings[][];
  inUse: boolean;
}

/**
 * The scopes of the last evaluation of each policy list (a loaded set is evaluated again and
 * again: once per new manifest of a decision, once per admission review), so that they are not
 * built again per call (measured: ~21 KiB and 29 rule scopes per admission review).
 */
const preparedScopes = new WeakMap<readonly LoadedPolicy[], Prepared>();

const samePolicies = (a: readonly LoadedPolicy[], b: readonly LoadedPolicy[]) => a.length === b.length && a.every((p, i) => p === b[i]);

function sameBindings(prepared: Prepared, bindings: Record<string, unknown> | undefined): boolean {
  if (prepared.bindings !== bindings) return false;
  if (bindings === undefined) return true;
  const entries = prepared.bindingEntries;
  return Object.keys(bindings).length === entries.length && entries.every(([k, v]) => Object.hasOwn(bindings, k) && bindings[k] === v);
}

function prepare(policies: readonly LoadedPolicy[], bindings: Record<string, unknown> | undefined): Prepared {
  const externalValues = (bindings ?? {}) as Record<string, JsonValue>;
  const shared = Bindings.fromObject(externalValues);
  // `$payload` is one slot, re-pointed at each resource, so the resource-independent part of
  // every rule's scope (externals < $payload < $policy < $rule) is built once.
  const state: EvalState = { resource: null, generation: 0, budget: new Budget(DEFAULT_LIMITS), memo: new ResourceMemo(), forget: [] };
  const sharedSlot = shared.slot('payload');
  const slots = [sharedSlot];
  const ruleBases = policies.map((p) => {
    // policy default bindings (annotation) sit below the external ones, which shadow them
    let slot = sharedSlot;
    if (p.defaultBindings && Object.keys(p.defaultBindings).length > 0) {
      slot = Bindings.fromObject(externalValues, Bindings.fromObject(p.defaultBindings)).slot('payload');
      slots.push(slot);
    }
    const withPolicy = slot.scope.with('policy', exposedPolicy(p));
    return p.rules.map((rule) => ruleScope(rule, withPolicy.with('rule', rule.raw), state));
  });
  return { policies: [...policies], bindings, bindingEntries: Object.entries(bindings ?? {}), state, slots, ruleBases, inUse: false };
}

/**
 * Evaluates `policies` on `resources`. Results are ordered resource → policy → rule and cover
 * every (resource, policy, rule) (not-applicable ones as `skip` unless `includeSkipped: false`).
 */
export function evaluate(policies: readonly LoadedPolicy[], resources: readonly unknown[], options: EvaluateOptions = {}): PolicyResult[] {
  let prepared = preparedScopes.get(policies);
  if (prepared === undefined || prepared.inUse || !sameBindings(prepared, options.bindings) || !samePolicies(prepared.policies, policies)) {
    prepared = prepare(policies, options.bindings);
    // (one in use belongs to an evaluation further up the stack: this one gets its own)
    if (!preparedScopes.get(policies)?.inUse) preparedScopes.set(policies, prepared);
  }
  prepared.inUse = true;
  try {
    return evaluatePrepared(policies, resources, options, prepared);
  } finally {
    prepared.inUse = false;
    // nothing of these resources is kept past the call
    for (const slot of prepared.slots) slot.set(null);
    prepared.state.resource = null;
    prepared.state.memo.clear();
    for (const forget of prepared.state.forget) forget();
  }
}

function evaluatePrepared(policies: readonly LoadedPolicy[], resources: readonly unknown[], options: EvaluateOptions, prepared: Prepared): PolicyResult[] {
  const limits: BudgetLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const includeSkipped = options.includeSkipped ?? true;
  const { state, slots, ruleBases } = prepared;
  // (read at every call: an annotation changed in place shows)
  const severities = policies.map((p) => p.annotations[SEVERITY_ANNOTATION]);
  const budget = new Budget(limits);
  state.budget = budget;
  const memo = state.memo;
  return withClock(options.now, () => {
    const results: PolicyResult[] = [];
    for (let resourceIndex = 0; resourceIndex < resources.length; resourceIndex++) {
      const resource = toJson(resources[resourceIndex]);
      for (const slot of slots) slot.set(resource);
      state.resource = resource;
      state.generation++;
      memo.next();
      for (let p = 0; p < policies.length; p++) {
        const policy = policies[p] as LoadedPolicy;
        const scopes = ruleBases[p] as Bindings[];
        const severity = severities[p];
        for (let r = 0; r < policy.rules.length; r++) {
          const rule = policy.rules[r] as CompiledRule;
          // a shared match block already known not to match this resource: nothing to evaluate
          const m = rule.match?.memo;
          if (!includeSkipped && m !== undefined && memo.has(m) && memo.get(m) === false) continue;
          let outcome: RuleOutcome | undefined;
          let resource_: string | number = resourceIndex;
          try {
            budget.reset();
            const bindings = scopes[r] as Bindings;
            outcome = evaluateRule(rule, resource, bindings, budget, memo);
            if (outcome === undefined) {
              if (!includeSkipped) continue;
              outcome = SKIP;
            } else if (rule.identifier) {
              let id: string;
              const im = rule.identifierMemo;
              if (im !== undefined && memo.has(im)) id = memo.get(im) as string;
              else {
                budget.reset();
                id = identifierOf(rule, resource, bindings, budget);
                if (im !== undefined) memo.set(im, id);
              }
              if (id !== '') resource_ = id;
            }
          } catch (err) {
            outcome = errorOutcome(err);
          }
          const result: PolicyResult = { policy: policy.name, rule: rule.name, resource: resource_, resourceIndex, status: outcome.status };
          if (outcome.message !== undefined) result.message = outcome.message;
          if (outcome.errorCode !== undefined) result.errorCode = outcome.errorCode;
          if (severity !== undefined) result.severity = severity;
          if (outcome.failures !== undefined) result.failures = outcome.failures;
          results.push(result);
        }
      }
    }
    return results;
  });
}
