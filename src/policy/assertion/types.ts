import type { Bindings } from '../jmespath/bindings.js';
import type { Budget } from '../jmespath/budget.js';
import type { Ast, JsonValue } from '../jmespath/types.js';

export interface Expression {
  ast: Ast;
  source: string;
  /** the compiled closure (errors are PolicyEvalErrors) */
  fn: (value: JsonValue, bindings: Bindings, budget: Budget) => JsonValue;
  /** the bare closure (the caller charges `cost`, maps undefined to null and converts errors) */
  raw: (value: JsonValue, bindings: Bindings, budget: Budget) => JsonValue | undefined;
  cost: number;
}

export type Projection = { type: 'plain'; name: string } | ({ type: 'expression' } & Expression);

export interface MapEntry {
  /** the key as written, used in violation paths */
  key: string;
  projection: Projection;
  foreach: boolean;
  foreachName: string | undefined;
  binding: string | undefined;
  child: TreeNode;
}

export type TreeNode =
  | { kind: 'map'; entries: MapEntry[] }
  | { kind: 'array'; items: TreeNode[] }
  | { kind: 'literal'; value: JsonValue }
  | ({ kind: 'expression' } & Expression);

/** A scalar leaf or context variable value. */
export type ValueNode = { kind: 'literal'; value: JsonValue } | ({ kind: 'expression' } & Expression);

export type Violation = {
  path: string;
  type: 'Invalid' | 'Required';
  /** the offending value (Invalid only) */
  value?: JsonValue;
  detail: string;
};
