/** Public types of the policy engine. */
import type { Expression, TreeNode, ValueNode, Violation } from './assertion/types.js';
import type { Template } from './templates.js';
import type { JsonObject, JsonValue } from './jmespath/types.js';

export type { Violation };
export type ResultStatus = 'pass' | 'fail' | 'error' | 'skip';

/** One failed assertion of a rule. */
export interface Failure {
  /** rendered message template ('' when the assertion has none) */
  message: string;
  /** where the assertion is: `spec.rules[0].assert.all[1]` */
  check: string;
  violations: Violation[];
}

/** The outcome of one rule of one policy on one resource. */
export interface PolicyResult {
  policy: string;
  rule: string;
  /** the rule identifier's value when the rule has one (and it is non-empty), else `resourceIndex` */
  resource: string | number;
  /** 0-based index of the resource in the evaluated list */
  resourceIndex: number;
  status: ResultStatus;
  /** fail: the failures flattened (`<msg> (CHECK=…)`, `; `-joined); error: the error; skip: why */
  message?: string;
  /** stable code of an `error` result (POLICY_EVAL_ERROR, POLICY_TYPE_MISMATCH, POLICY_BUDGET_EXCEEDED, …) */
  errorCode?: string;
  /** the `policies.kyverno.io/severity` annotation of the policy */
  severity?: string;
  /** fail only: each failed assertion with its violations */
  failures?: Failure[];
}

export interface CompiledMatch {
  any: TreeNode[];
  all: TreeNode[];
  /** memo id when the block depends on the resource only (its result is shared between rules) */
  memo: number | undefined;
}

export interface CompiledAssertion {
  check: TreeNode;
  message: Template | undefined;
  /** `spec.rules[i].assert.all[j]` */
  checkPath: string;
}

export interface CompiledContextEntry {
  name: string;
  value: ValueNode;
  /** memo id when the value depends on the resource and earlier entries only (shared between rules) */
  memo: number | undefined;
}

export interface CompiledRule {
  name: string;
  index: number;
  /** the rule as written (bound as `$rule`) */
  raw: JsonObject;
  context: CompiledContextEntry[];
  match: CompiledMatch | undefined;
  exclude: CompiledMatch | undefined;
  identifier: Expression | undefined;
  /** memo id when the identifier depends on the resource only (computed once per resource) */
  identifierMemo: number | undefined;
  assert: { any: CompiledAssertion[]; all: CompiledAssertion[] };
}

/** A validated, compiled ValidatingPolicy. */
export interface LoadedPolicy {
  name: string;
  /** where it was loaded from (absent for in-memory documents) */
  file: string | undefined;
  /** 0-based index of the YAML document in its file */
  document: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** the document as written (bound as `$policy`) */
  raw: JsonObject;
  rules: CompiledRule[];
  /**
   * Defaults for external bindings, from the `syncgate.dev/default-bindings` annotation (a YAML
   * or JSON mapping). External bindings (`--bindings`, the gate's config) shadow them.
   */
  defaultBindings?: Record<string, JsonValue>;
}

export const SEVERITY_ANNOTATION = 'policies.kyverno.io/severity';
/** A YAML/JSON mapping of default values for external bindings (syncgate extension). */
export const DEFAULT_BINDINGS_ANNOTATION = 'syncgate.dev/default-bindings';
