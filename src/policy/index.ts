/**
 * kyverno-json `ValidatingPolicy` engine (json.kyverno.io/v1alpha1), implemented natively from
 * ../shared/specs/kyverno-json.md. Semantics follow kyverno-json main, except where the spec
 * recommends otherwise: match/exclude use v0.0.3 AND semantics, bad rules are rejected at load,
 * bindings in trees are scoped to descendants, JS numbers compare by value.
 */
export { loadPolicies, parsePolicyDocuments, parsePolicyDocument, policyFiles } from './loader.js';
export { evaluate, formatFailure, type EvaluateOptions } from './engine.js';
export { parsePayload, preprocess, toResources, parseBindings } from './payload.js';
export { formatViolation } from './assertion/evaluate.js';
export { PolicyErrorCode, PolicyLoadError, PolicyEvalError, BudgetExceededError } from './errors.js';
export { DEFAULT_LIMITS, type BudgetLimits } from './jmespath/budget.js';
export { jmespath } from './runtime.js';
export type { JsonValue } from './jmespath/types.js';
export type { LoadedPolicy, PolicyResult, ResultStatus, Failure, Violation, CompiledRule } from './types.js';
export { SEVERITY_ANNOTATION } from './types.js';
