/**
 * Walks a compiled assertion tree together with a value (kyverno-json main semantics):
 * map nodes project each key (plain lookup, or expression with `@` = current value), bind
 * `->name`, iterate `~` (index or map key bound to `~name`), and assert the child; array nodes
 * require an array of the same length; leaves compare with `match`. Violations are collected
 * exhaustively; evaluation errors throw a PolicyEvalError carrying the field path.
 * Tree bindings are scoped to descendants only.
 */
import { PolicyErrorCode, PolicyEvalError } from '../errors.js';
import { SyncgateError } from '../../errors.js';
import { match } from '../compare.js';
import type { Bindings } from '../jmespath/bindings.js';
import type { Budget } from '../jmespath/budget.js';
import type { JmesPath } from '../jmespath/interpreter.js';
import { isObject, type JsonValue } from '../jmespath/types.js';
import { FieldPath } from './path.js';
import type { TreeNode, ValueNode, Violation } from './types.js';
import { goSprint } from '../jmespath/functions/gojson.js';

export interface TreeContext {
  jp: JmesPath;
  budget: Budget;
}

/** Re-raises `err` as a PolicyEvalError located at `path` (once: the innermost path wins). */
export function atPath(err: unknown, path: FieldPath): never {
  if (err instanceof PolicyEvalError && err.location?.path !== undefined) throw err;
  const p = path.toString();
  if (err instanceof SyncgateError) {
    throw new PolicyEvalError(err.code as PolicyErrorCode, `${p}: ${err.message}`, { path: p }, { cause: err });
  }
  const code = err instanceof RangeError ? PolicyErrorCode.BUDGET_EXCEEDED : PolicyErrorCode.INTERNAL;
  throw new PolicyEvalError(code, `${p}: ${err instanceof Error ? err.message : String(err)}`, { path: p }, { cause: err });
}

function evalError(path: FieldPath, message: string): PolicyEvalError {
  const p = path.toString();
  return new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, `${p}: ${message}`, { path: p });
}

export function expectedValue(node: ValueNode, value: JsonValue, bindings: Bindings, ctx: TreeContext): JsonValue {
  return node.kind === 'literal' ? node.value : ctx.jp.evaluate(node.ast, value, bindings, ctx.budget);
}

export function describeExpected(v: JsonValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? JSON.stringify(v) : goSprint(v);
}

export function assertTree(node: TreeNode, value: JsonValue, bindings: Bindings, path: FieldPath, ctx: TreeContext, out: Violation[], depth = 0): void {
  ctx.budget.charge();
  ctx.budget.checkDepth(depth);
  switch (node.kind) {
    case 'map': {
      if (node.entries.length === 0) {
        if (value === null) out.push({ path: path.toString(), type: 'Invalid', value, detail: 'invalid value, must not be null' });
        return;
      }
      for (const entry of node.entries) {
        const keyPath = path.child(entry.key);
        let projected: JsonValue;
        if (entry.projection.type === 'plain') {
          if (value === null || (isObject(value) && !Object.hasOwn(value, entry.projection.name))) {
            out.push({ path: keyPath.toString(), type: 'Required', detail: 'field not found in the input object' });
            continue;
          }
          if (!isObject(value)) throw evalError(keyPath, `projection not recognized (cannot look up "${entry.projection.name}" in a ${Array.isArray(value) ? 'array' : typeof value}; use ~.${entry.projection.name} to iterate)`);
          projected = value[entry.projection.name] as JsonValue;
        } else {
          try {
            projected = ctx.jp.evaluate(entry.projection.ast, value, bindings, ctx.budget);
          } catch (err) {
            atPath(err, keyPath);
          }
        }
        const scope = entry.binding !== undefined ? bindings.with(entry.binding, projected) : bindings;
        if (!entry.foreach) {
          assertTree(entry.child, projected, scope, keyPath, ctx, out, depth + 1);
        } else if (Array.isArray(projected)) {
          for (let i = 0; i < projected.length; i++) {
            const s = entry.foreachName !== undefined ? scope.with(entry.foreachName, i) : scope;
            assertTree(entry.child, projected[i] as JsonValue, s, keyPath.index(i), ctx, out, depth + 1);
          }
        } else if (isObject(projected)) {
          for (const k of Object.keys(projected)) {
            const s = entry.foreachName !== undefined ? scope.with(entry.foreachName, k) : scope;
            assertTree(entry.child, projected[k] as JsonValue, s, keyPath.key(k), ctx, out, depth + 1);
          }
        } else {
          throw evalError(keyPath, `expected a slice or a map to iterate, got ${projected === null ? 'null' : typeof projected}`);
        }
      }
      return;
    }
    case 'array': {
      if (value === null) {
        out.push({ path: path.toString(), type: 'Invalid', value, detail: 'value is null' });
        return;
      }
      if (!Array.isArray(value)) throw evalError(path, `expected a slice, got ${typeof value === 'object' ? 'map' : typeof value}`);
      if (value.length !== node.items.length) {
        out.push({ path: path.toString(), type: 'Invalid', value, detail: "lengths of slices don't match" });
        return;
      }
      for (let i = 0; i < node.items.length; i++) {
        assertTree(node.items[i] as TreeNode, value[i] as JsonValue, bindings, path.index(i), ctx, out, depth + 1);
      }
      return;
    }
    default: {
      let ok: boolean;
      let expected: JsonValue;
      try {
        expected = expectedValue(node, value, bindings, ctx);
        ok = match(expected, value, ctx.budget, depth);
      } catch (err) {
        atPath(err, path);
      }
      if (!ok) out.push({ path: path.toString(), type: 'Invalid', value, detail: `Expected value: ${describeExpected(expected)}` });
    }
  }
}

/** Evaluates a tree on `value` from the root and returns its violations. */
export function treeViolations(node: TreeNode, value: JsonValue, bindings: Bindings, ctx: TreeContext): Violation[] {
  const out: Violation[] = [];
  assertTree(node, value, bindings, FieldPath.root(), ctx, out);
  return out;
}

/** `Invalid value: "x": Expected value: "y"` / `Required value: field not found…` (k8s field.Error). */
export function formatViolation(v: Violation): string {
  if (v.type === 'Required') return `Required value: ${v.detail}`;
  const shown = v.value === undefined ? '' : `${describeExpected(v.value)}: `;
  return `Invalid value: ${shown}${v.detail}`;
}
