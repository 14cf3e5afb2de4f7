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
import type { MapEntry, TreeNode, ValueNode, Violation } from './types.js';
import { goSprint } from '../jmespath/functions/gojson.js';

export interface TreeContext {
  jp: JmesPath;
  budget: Budget;
}

/**
 * The current field path as a stack of rendered segments (`spec`, `.containers`, `[0]`), pushed
 * and popped while walking so that no path string is built unless a violation or error needs it.
 */
export type PathStack = string[];

function childSegment(path: PathStack, key: string): string {
  return path.length === 0 ? key : `.${key}`;
}

function render(path: PathStack): string {
  return path.join('');
}

/** Re-raises `err` as a PolicyEvalError located at `path` (once: the innermost path wins). */
export function atPath(err: unknown, path: PathStack): never {
  if (err instanceof PolicyEvalError && err.location?.path !== undefined) throw err;
  const p = render(path);
  if (err instanceof SyncgateError) {
    throw new PolicyEvalError(err.code as PolicyErrorCode, `${p}: ${err.message}`, { path: p }, { cause: err });
  }
  const code = err instanceof RangeError ? PolicyErrorCode.BUDGET_EXCEEDED : PolicyErrorCode.INTERNAL;
  throw new PolicyEvalError(code, `${p}: ${err instanceof Error ? err.message : String(err)}`, { path: p }, { cause: err });
}

function evalError(path: PathStack, message: string): PolicyEvalError {
  const p = render(path);
  return new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, `${p}: ${message}`, { path: p });
}

export function expectedValue(node: ValueNode, value: JsonValue, bindings: Bindings, ctx: TreeContext): JsonValue {
  return node.kind === 'literal' ? node.value : ctx.jp.evaluate(node.ast, value, bindings, ctx.budget);
}

export function describeExpected(v: JsonValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? JSON.stringify(v) : goSprint(v);
}

export function assertTree(node: TreeNode, value: JsonValue, bindings: Bindings, path: PathStack, ctx: TreeContext, out: Violation[], depth = 0): void {
  ctx.budget.charge();
  ctx.budget.checkDepth(depth);
  switch (node.kind) {
    case 'map': {
      if (node.entries.length === 0) {
        if (value === null) out.push({ path: render(path), type: 'Invalid', value, detail: 'invalid value, must not be null' });
        return;
      }
      for (const entry of node.entries) {
        path.push(childSegment(path, entry.key));
        try {
          assertEntry(entry, value, bindings, path, ctx, out, depth);
        } finally {
          path.pop();
        }
      }
      return;
    }
    case 'array': {
      if (value === null) {
        out.push({ path: render(path), type: 'Invalid', value, detail: 'value is null' });
        return;
      }
      if (!Array.isArray(value)) throw evalError(path, `expected a slice, got ${typeof value === 'object' ? 'map' : typeof value}`);
      if (value.length !== node.items.length) {
        out.push({ path: render(path), type: 'Invalid', value, detail: "lengths of slices don't match" });
        return;
      }
      for (let i = 0; i < node.items.length; i++) {
        path.push(`[${i}]`);
        try {
          assertTree(node.items[i] as TreeNode, value[i] as JsonValue, bindings, path, ctx, out, depth + 1);
        } finally {
          path.pop();
        }
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
      if (!ok) out.push({ path: render(path), type: 'Invalid', value, detail: `Expected value: ${describeExpected(expected)}` });
    }
  }
}

/** One key of a map node; `path` already ends with the key. */
function assertEntry(entry: MapEntry, value: JsonValue, bindings: Bindings, path: PathStack, ctx: TreeContext, out: Violation[], depth: number): void {
  let projected: JsonValue;
  if (entry.projection.type === 'plain') {
    if (value === null || (isObject(value) && !Object.hasOwn(value, entry.projection.name))) {
      out.push({ path: render(path), type: 'Required', detail: 'field not found in the input object' });
      return;
    }
    if (!isObject(value)) throw evalError(path, `projection not recognized (cannot look up "${entry.projection.name}" in a ${Array.isArray(value) ? 'array' : typeof value}; use ~.${entry.projection.name} to iterate)`);
    projected = value[entry.projection.name] as JsonValue;
  } else {
    try {
      projected = ctx.jp.evaluate(entry.projection.ast, value, bindings, ctx.budget);
    } catch (err) {
      atPath(err, path);
    }
  }
  const scope = entry.binding !== undefined ? bindings.with(entry.binding, projected) : bindings;
  if (!entry.foreach) {
    assertTree(entry.child, projected, scope, path, ctx, out, depth + 1);
    return;
  }
  if (Array.isArray(projected)) {
    for (let i = 0; i < projected.length; i++) {
      const s = entry.foreachName !== undefined ? scope.with(entry.foreachName, i) : scope;
      path.push(`[${i}]`);
      try {
        assertTree(entry.child, projected[i] as JsonValue, s, path, ctx, out, depth + 1);
      } finally {
        path.pop();
      }
    }
  } else if (isObject(projected)) {
    for (const k of Object.keys(projected)) {
      const s = entry.foreachName !== undefined ? scope.with(entry.foreachName, k) : scope;
      path.push(`[${k}]`);
      try {
        assertTree(entry.child, projected[k] as JsonValue, s, path, ctx, out, depth + 1);
      } finally {
        path.pop();
      }
    }
  } else {
    throw evalError(path, `expected a slice or a map to iterate, got ${projected === null ? 'null' : typeof projected}`);
  }
}

/** Evaluates a tree on `value` from the root and returns its violations. */
export function treeViolations(node: TreeNode, value: JsonValue, bindings: Bindings, ctx: TreeContext): Violation[] {
  const out: Violation[] = [];
  assertTree(node, value, bindings, [], ctx, out);
  return out;
}

/** `Invalid value: "x": Expected value: "y"` / `Required value: field not found…` (k8s field.Error). */
export function formatViolation(v: Violation): string {
  if (v.type === 'Required') return `Required value: ${v.detail}`;
  const shown = v.value === undefined ? '' : `${describeExpected(v.value)}: `;
  return `Invalid value: ${shown}${v.detail}`;
}
