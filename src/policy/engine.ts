/**
 * Evaluation: every resource × every policy × every rule, in that order (kyverno-json `scan`).
 * Per (rule, resource): bindings (external, `$payload`, `$policy`, `$rule`, lazy context entries),
 * `match` then `exclude` (v0.0.3 semantics: `any` OR-ed, then AND-ed with `all`), then `assert`
 * (any/all), then the identifier. Every exception is an `error` result (fail closed); every
 * (rule, resource) has its own step/depth budget so runaway work ends in an error, never a hang.
 */
import { SyncgateError } from '../errors.js';
import { PolicyErrorCode } from './errors.js';
import { treeViolations, type TreeContext } from './assertion/evaluate.js';
import type { TreeNode, ValueNode } from './assertion/types.js';
import { Bindings } from './jmespath/bindings.js';
import { Budget, DEFAULT_LIMITS, type BudgetLimits } from './jmespath/budget.js';
import { goSprint } from './jmespath/functions/gojson.js';
import type { JsonObject, JsonValue } from './jmespath/types.js';
import { jmespath, withClock } from './runtime.js';
import { renderTemplate } from './templates.js';
import { SEVERITY_ANNOTATION, type CompiledMatch, type CompiledRule, type Failure, type LoadedPolicy, type PolicyResult } from './types.js';

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

function holds(tree: TreeNode, resource: JsonValue, bindings: Bindings, ctx: TreeContext): boolean {
  return treeViolations(tree, resource, bindings, ctx).length === 0;
}

/** match/exclude: (any empty OR some any-item holds) AND every all-item holds; errors propagate. */
function matches(m: CompiledMatch, resource: JsonValue, bindings: Bindings, ctx: TreeContext): boolean {
  if (m.any.length > 0 && !m.any.some((t) => holds(t, resource, bindings, ctx))) return false;
  let ok = true;
  for (const t of m.all) if (!holds(t, resource, bindings, ctx)) ok = false;
  return ok;
}

function valueOf(node: ValueNode, resource: JsonValue, bindings: Bindings, budget: Budget): JsonValue {
  return node.kind === 'literal' ? node.value : jmespath.evaluate(node.ast, resource, bindings, budget);
}

function ruleBindings(rule: CompiledRule, resource: JsonValue, base: Bindings, budget: Budget): Bindings {
  let b = base;
  for (const entry of rule.context) {
    const before = b;
    b = entry.value.kind === 'literal' ? b.with(entry.name, entry.value.value) : b.withLazy(entry.name, () => valueOf(entry.value, resource, before, budget));
  }
  return b;
}

function assertRule(rule: CompiledRule, resource: JsonValue, bindings: Bindings, ctx: TreeContext): Failure[] {
  const failures: Failure[] = [];
  const run = (a: CompiledRule['assert']['all'][number]): boolean => {
    const violations = treeViolations(a.check, resource, bindings, ctx);
    if (violations.length === 0) return true;
    const message = a.message ? renderTemplate(a.message, jmespath, resource, bindings, ctx.budget) : '';
    failures.push({ message, check: a.checkPath, violations });
    return false;
  };
  if (rule.assert.any.length > 0) {
    let satisfied = false;
    for (const a of rule.assert.any) {
      if (run(a)) {
        satisfied = true;
        break;
      }
    }
    if (!satisfied) return failures;
    failures.length = 0;
  }
  for (const a of rule.assert.all) run(a);
  return failures;
}

export function formatFailure(f: Failure): string {
  return f.message ? `${f.message} (CHECK=${f.check})` : `(CHECK=${f.check})`;
}

/** Evaluates one rule on one resource. Never throws. `undefined` = not applicable. */
function evaluateRule(rule: CompiledRule, resource: JsonValue, base: Bindings, limits: BudgetLimits): { outcome: RuleOutcome | undefined; bindings: Bindings; budget: Budget } {
  const budget = new Budget(limits);
  const ctx: TreeContext = { jp: jmespath, budget };
  const bindings = ruleBindings(rule, resource, base, budget);
  try {
    if (rule.match && !matches(rule.match, resource, bindings, ctx)) return { outcome: undefined, bindings, budget };
    if (rule.exclude && matches(rule.exclude, resource, bindings, ctx)) return { outcome: undefined, bindings, budget };
    const failures = assertRule(rule, resource, bindings, ctx);
    if (failures.length === 0) return { outcome: { status: 'pass' }, bindings, budget };
    return { outcome: { status: 'fail', failures, message: failures.map(formatFailure).join('; ') }, bindings, budget };
  } catch (err) {
    return { outcome: errorOutcome(err), bindings, budget };
  }
}

/** The identifier as upstream prints it: Go `fmt.Sprint`; an error gives `(error: …)`. */
function identifierOf(rule: CompiledRule, resource: JsonValue, bindings: Bindings, budget: Budget): string {
  if (!rule.identifier) return '';
  try {
    return goSprint(jmespath.evaluate(rule.identifier.ast, resource, bindings, budget));
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

/**
 * Evaluates `policies` on `resources`. Results are ordered resource → policy → rule and cover
 * every (resource, policy, rule) (not-applicable ones as `skip` unless `includeSkipped: false`).
 */
export function evaluate(policies: readonly LoadedPolicy[], resources: readonly unknown[], options: EvaluateOptions = {}): PolicyResult[] {
  const limits: BudgetLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const includeSkipped = options.includeSkipped ?? true;
  const externalValues = (options.bindings ?? {}) as Record<string, JsonValue>;
  const shared = Bindings.fromObject(externalValues);
  // policy default bindings (annotation) sit below the external ones, which shadow them
  const externals = policies.map((p) => (p.defaultBindings && Object.keys(p.defaultBindings).length > 0 ? Bindings.fromObject(externalValues, Bindings.fromObject(p.defaultBindings)) : shared));
  const policyJson = policies.map(exposedPolicy);
  return withClock(options.now, () => {
    const results: PolicyResult[] = [];
    resources.forEach((res, resourceIndex) => {
      const resource = toJson(res);
      policies.forEach((policy, p) => {
        const withPolicy = (externals[p] as Bindings).with('payload', resource).with('policy', policyJson[p] as JsonObject);
        const severity = policy.annotations[SEVERITY_ANNOTATION];
        for (const rule of policy.rules) {
          const base = withPolicy.with('rule', rule.raw);
          let result: PolicyResult;
          try {
            const { outcome, bindings } = evaluateRule(rule, resource, base, limits);
            if (!outcome) {
              if (!includeSkipped) continue;
              result = { policy: policy.name, rule: rule.name, resource: resourceIndex, resourceIndex, status: 'skip', message: 'not applicable (match/exclude)' };
            } else {
              const id = identifierOf(rule, resource, bindings, new Budget(limits));
              result = { policy: policy.name, rule: rule.name, resource: id !== '' ? id : resourceIndex, resourceIndex, ...outcome };
            }
          } catch (err) {
            result = { policy: policy.name, rule: rule.name, resource: resourceIndex, resourceIndex, ...errorOutcome(err) };
          }
          if (severity !== undefined) result.severity = severity;
          results.push(result);
        }
      });
    });
    return results;
  });
}
