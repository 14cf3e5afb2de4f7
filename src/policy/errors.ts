/**
 * Typed errors of the policy engine. Codes are stable: the CLI, the gate and the audit log key on
 * them. Load-time problems are `PolicyLoadError` (an `InputError`: CLI exit 2, the gate keeps the
 * last good policy set); evaluation problems become `error` results, never exceptions that escape
 * `evaluate()`.
 */
import { InputError, SyncgateError, type ErrorLocation } from '../errors.js';

export const PolicyErrorCode = {
  /** A policy file could not be read. */
  READ_ERROR: 'POLICY_READ_ERROR',
  /** A policy file is not valid YAML/JSON. */
  PARSE_ERROR: 'POLICY_PARSE_ERROR',
  /** A document is not a valid ValidatingPolicy (schema, expression syntax, key grammar). */
  INVALID: 'POLICY_INVALID',
  /** A document uses a feature this engine does not implement (CEL). */
  UNSUPPORTED: 'POLICY_UNSUPPORTED',
  /** A payload could not be parsed, or a pre-processor failed. */
  PAYLOAD_ERROR: 'POLICY_PAYLOAD_ERROR',
  /** External bindings are not a mapping. */
  BINDINGS_INVALID: 'POLICY_BINDINGS_INVALID',
  /** Evaluation error (JMESPath runtime error, function error, bad projection). */
  EVAL_ERROR: 'POLICY_EVAL_ERROR',
  /** Comparison between values of incompatible types. */
  TYPE_MISMATCH: 'POLICY_TYPE_MISMATCH',
  /** The step or depth budget of one (rule, resource) evaluation was exhausted. */
  BUDGET_EXCEEDED: 'POLICY_BUDGET_EXCEEDED',
  /** Anything unexpected during evaluation (fail closed). */
  INTERNAL: 'POLICY_INTERNAL_ERROR',
} as const;
export type PolicyErrorCode = (typeof PolicyErrorCode)[keyof typeof PolicyErrorCode];

/** A policy (or payload, or bindings) that cannot be loaded. */
export class PolicyLoadError extends InputError {}

/** An error raised while evaluating one rule on one resource; turned into an `error` result. */
export class PolicyEvalError extends SyncgateError {
  constructor(code: PolicyErrorCode, message: string, location?: ErrorLocation, options?: { cause?: unknown }) {
    super(code, message, location, options);
  }
}

/** Thrown by the budget when a (rule, resource) evaluation does too much work. */
export class BudgetExceededError extends PolicyEvalError {
  constructor(message: string) {
    super(PolicyErrorCode.BUDGET_EXCEEDED, message);
  }
}

