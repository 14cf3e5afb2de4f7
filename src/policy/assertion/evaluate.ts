/**
 * Walks an assertion tree together with a value (kyverno-json main semantics): map nodes project
 * each key (plain lookup, or expression with `@` = current value), bind `->name`, iterate `~`
 * (index or map key bound to `~name`), and assert the child; array nodes require an array of the
 * same length; leaves compare with `match`. Violations are collected exhaustively; evaluation
 * errors throw a PolicyEvalError carrying the field path. Tree bindings are scoped to descendants.
 *
 * Each tree is compiled once into closures (cached per node). A walk either collects violations
 * (assertions) or only counts them (match/exclude, where a violation just means "does not
 * apply"): counting builds no path strings and formats no values, yet walks the same nodes, so an
 * evaluation error later in the tree still surfaces exactly as upstream.
 */
import { PolicyErrorCode, PolicyEvalError } from '../errors.js';
import { SyncgateError } from '../../errors.js';
import { equal, match } from '../compare.js';
import type { Bindings } from '../jmespath/bindings.js';
import type { Budget } from '../jmespath/budget.js';
import { isObject, type JsonValue } from '../jmespath/types.js';
import type { MapEntry, TreeNode, ValueNode, Violation } from './types.js';
import { goSprint } from '../jmespath/functions/gojson.js';
import { toEvalError } from '../jmespath/interpreter.js';
import { jmespath } from '../runtime.js';
import { generateWalk } from './codegen.js';

/**
 * The current field path as a stack of rendered segments (`spec`, `.containers`, `[0]`), pushed
 * and popped while walking so that no path string is built unless a violation or error needs it.
 */
export type PathStack = string[];

/** State of one walk. `collect === false`: count violations only. */
export interface TreeRun {
  budget: Budget;
  path: PathStack;
  count: number;
  collect: boolean;
  /** created at the first collected violation */
  out: Violation[] | null;
}

type TreeFn = (value: JsonValue, bindings: Bindings, run: TreeRun, depth: number) => void;

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

export function describeExpected(v: JsonValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? JSON.stringify(v) : goSprint(v);
}

function violation(run: TreeRun, type: Violation['type'], value: JsonValue | undefined, detail: () => string): void {
  run.count++;
  if (!run.collect) return;
  const v: Violation = type === 'Required' ? { path: render(run.path), type, detail: detail() } : { path: render(run.path), type, value, detail: detail() };
  (run.out ??= []).push(v);
}

const INDEX_SEGMENTS = Array.from({ length: 256 }, (_, i) => `[${i}]`);
function indexSegment(i: number): string {
  return i < INDEX_SEGMENTS.length ? (INDEX_SEGMENTS[i] as string) : `[${i}]`;
}

type WithWalk = TreeNode & { walk?: TreeFn };

let generate = true;
/** Tests: compile trees loaded from now on as closures only (to cross-check the generated walks). */
export function setTreeCodegen(enabled: boolean): void {
  generate = enabled;
}

/** The compiled walk of a root `node` (compiled on first use, then kept on the node). */
function treeFn(node: TreeNode, root: boolean): TreeFn {
  let fn = (node as WithWalk).walk;
  if (fn === undefined) {
    const generated = generate ? (generateWalk(node, jmespath.closureHost, { atPath, describe: describeExpected }) as TreeFn | undefined) : undefined;
    fn = generated ?? compileNode(node, root);
    (node as WithWalk).walk = fn;
  }
  return fn;
}

/** Match(expected, actual) with the scalar cases inline (the common ones). */
function matchFast(expected: JsonValue, actual: JsonValue, budget: Budget, depth: number): boolean {
  const te = typeof expected;
  if (expected === null || (te !== 'object' && actual === null)) {
    budget.charge();
    return expected === actual;
  }
  if (te !== 'object' && te === typeof actual) {
    budget.charge();
    return expected === actual;
  }
  return match(expected, actual, budget, depth);
}

/** Compiles `node` now (policy load), so evaluation never compiles. */
export function prepareTree(node: TreeNode): void {
  treeFn(node, true);
}

function compileNode(node: TreeNode, root: boolean): TreeFn {
  switch (node.kind) {
    case 'map': {
      if (node.entries.length === 0) {
        return (value, _b, run, depth) => {
          run.budget.charge();
          run.budget.checkDepth(depth);
          if (value === null) violation(run, 'Invalid', value, () => 'invalid value, must not be null');
        };
      }
      const entries = node.entries.map((e) => ({ segment: root ? e.key : `.${e.key}`, fn: compileEntry(e) }));
      const generic: TreeFn = (value, bindings, run, depth) => {
        run.budget.charge();
        run.budget.checkDepth(depth);
        const path = run.path;
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i] as (typeof entries)[number];
          path.push(e.segment);
          e.fn(value, bindings, run, depth);
          path.pop();
        }
      };
      return scalarFieldsWalk(node, root, generic) ?? generic;
    }
    case 'array': {
      const items = node.items.map((t) => compileNode(t, false));
      return (value, bindings, run, depth) => {
        run.budget.charge();
        run.budget.checkDepth(depth);
        if (value === null) {
          violation(run, 'Invalid', value, () => 'value is null');
          return;
        }
        if (!Array.isArray(value)) throw evalError(run.path, `expected a slice, got ${typeof value === 'object' ? 'map' : typeof value}`);
        if (value.length !== items.length) {
          violation(run, 'Invalid', value, () => "lengths of slices don't match");
          return;
        }
        for (let i = 0; i < items.length; i++) {
          run.path.push(indexSegment(i));
          (items[i] as TreeFn)(value[i] as JsonValue, bindings, run, depth + 1);
          run.path.pop();
        }
      };
    }
    default:
      return compileLeaf(node);
  }
}

/**
 * A map node whose keys are all plain (no `~`, no `->`) with non-null scalar literal leaves, such
 * as `{kind: Pod}` or `{apiVersion: v1, kind: Secret}`: the common match discriminator. Walked
 * without per-key closures; anything the fast loop does not handle exactly (the value is not an
 * object, a field has another type: an error upstream) takes the generic walk, which reports it.
 */
function scalarFieldsWalk(node: Extract<TreeNode, { kind: 'map' }>, root: boolean, generic: TreeFn): TreeFn | undefined {
  const fields: { name: string; segment: string; expected: string | number | boolean }[] = [];
  for (const e of node.entries) {
    const child = e.child;
    if (e.foreach || e.binding !== undefined || e.projection.type !== 'plain' || child.kind !== 'literal') return undefined;
    const expected = child.value;
    if (expected === null || typeof expected === 'object') return undefined;
    fields.push({ name: e.projection.name, segment: root ? e.key : `.${e.key}`, expected });
  }
  return (value, bindings, run, depth) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return generic(value, bindings, run, depth);
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as (typeof fields)[number];
      const actual = Object.hasOwn(value, f.name) ? (value[f.name] as JsonValue) : undefined;
      if (actual !== undefined && actual !== null && typeof actual !== typeof f.expected) return generic(value, bindings, run, depth);
    }
    run.budget.charge(1 + fields.length * 3);
    run.budget.checkDepth(depth + 1);
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as (typeof fields)[number];
      if (!Object.hasOwn(value, f.name)) {
        if (run.collect) run.path.push(f.segment);
        violation(run, 'Required', undefined, () => 'field not found in the input object');
        if (run.collect) run.path.pop();
        continue;
      }
      const actual = value[f.name] as JsonValue;
      if (actual !== f.expected) {
        if (run.collect) run.path.push(f.segment);
        violation(run, 'Invalid', actual, () => `Expected value: ${describeExpected(f.expected)}`);
        if (run.collect) run.path.pop();
      }
    }
  };
}

function compileLeaf(node: ValueNode): TreeFn {
  if (node.kind === 'literal') {
    const expected = node.value;
    if (expected === null || typeof expected !== 'object') {
      // scalar literal: Equal() inline
      return (value, _b, run, depth) => {
        run.budget.charge();
        run.budget.checkDepth(depth);
        run.budget.charge();
        let ok: boolean;
        if (expected === null || value === null) ok = expected === value;
        else if (typeof value === typeof expected) ok = value === expected;
        else {
          try {
            ok = equal(expected, value);
          } catch (err) {
            atPath(err, run.path);
          }
        }
        if (!ok) violation(run, 'Invalid', value, () => `Expected value: ${describeExpected(expected)}`);
      };
    }
    return (value, _b, run, depth) => {
      run.budget.charge();
      run.budget.checkDepth(depth);
      let ok: boolean;
      try {
        ok = match(expected, value, run.budget, depth);
      } catch (err) {
        atPath(err, run.path);
      }
      if (!ok) violation(run, 'Invalid', value, () => `Expected value: ${describeExpected(expected)}`);
    };
  }
  const raw = node.raw;
  const cost = node.cost + 1;
  return (value, bindings, run, depth) => {
    run.budget.checkDepth(depth);
    let ok: boolean;
    let expected: JsonValue;
    try {
      run.budget.charge(cost);
      expected = raw(value, bindings, run.budget) ?? null;
      ok = matchFast(expected, value, run.budget, depth);
    } catch (err) {
      atPath(toEvalError(err), run.path);
    }
    if (!ok) violation(run, 'Invalid', value, () => `Expected value: ${describeExpected(expected)}`);
  };
}

/** One key of a map node; `run.path` already ends with the key. */
function compileEntry(entry: MapEntry): TreeFn {
  const child = compileNode(entry.child, false);
  const binding = entry.binding;
  const foreachName = entry.foreachName;
  const descend: (projected: JsonValue, bindings: Bindings, run: TreeRun, depth: number) => void = !entry.foreach
    ? (projected, bindings, run, depth) => child(projected, binding !== undefined ? bindings.with(binding, projected) : bindings, run, depth + 1)
    : (projected, bindings, run, depth) => {
        const scope = binding !== undefined ? bindings.with(binding, projected) : bindings;
        const path = run.path;
        if (Array.isArray(projected)) {
          for (let i = 0; i < projected.length; i++) {
            path.push(indexSegment(i));
            child(projected[i] as JsonValue, foreachName !== undefined ? scope.with(foreachName, i) : scope, run, depth + 1);
            path.pop();
          }
        } else if (isObject(projected)) {
          for (const k of Object.keys(projected)) {
            path.push(`[${k}]`);
            child(projected[k] as JsonValue, foreachName !== undefined ? scope.with(foreachName, k) : scope, run, depth + 1);
            path.pop();
          }
        } else {
          throw evalError(path, `expected a slice or a map to iterate, got ${projected === null ? 'null' : typeof projected}`);
        }
      };
  const projection = entry.projection;
  if (projection.type === 'plain') {
    const name = projection.name;
    return (value, bindings, run, depth) => {
      if (value === null || (isObject(value) && !Object.hasOwn(value, name))) {
        violation(run, 'Required', undefined, () => 'field not found in the input object');
        return;
      }
      if (!isObject(value)) {
        throw evalError(run.path, `projection not recognized (cannot look up "${name}" in a ${Array.isArray(value) ? 'array' : typeof value}; use ~.${name} to iterate)`);
      }
      descend(value[name] as JsonValue, bindings, run, depth);
    };
  }
  const raw = projection.raw;
  const cost = projection.cost;
  return (value, bindings, run, depth) => {
    let projected: JsonValue;
    try {
      run.budget.charge(cost);
      projected = raw(value, bindings, run.budget) ?? null;
    } catch (err) {
      atPath(toEvalError(err), run.path);
    }
    descend(projected, bindings, run, depth);
  };
}

// Tree walks never nest (expressions inside a tree do not walk trees), so one run object serves all.
const shared: TreeRun = { budget: undefined as unknown as Budget, path: [], count: 0, collect: false, out: null };
const NONE: readonly Violation[] = Object.freeze([]);

function walk(node: TreeNode, value: JsonValue, bindings: Bindings, budget: Budget, collect: boolean): TreeRun {
  const run = shared;
  run.budget = budget;
  if (run.path.length !== 0) run.path.length = 0;
  run.count = 0;
  run.collect = collect;
  run.out = null;
  const fn = (node as WithWalk).walk ?? treeFn(node, true);
  fn(value, bindings, run, 0);
  return run;
}

/** Evaluates a tree on `value` from the root and returns its violations. */
export function treeViolations(node: TreeNode, value: JsonValue, bindings: Bindings, budget: Budget): Violation[] {
  const run = shared;
  run.budget = budget;
  if (run.path.length !== 0) run.path.length = 0;
  run.count = 0;
  run.collect = true;
  run.out = null;
  ((node as WithWalk).walk ?? treeFn(node, true))(value, bindings, run, 0);
  return run.out ?? (NONE as Violation[]);
}

/** Evaluates a tree on `value` from the root; true when it has no violation (none are built). */
export function treeHolds(node: TreeNode, value: JsonValue, bindings: Bindings, budget: Budget): boolean {
  return walk(node, value, bindings, budget, false).count === 0;
}

/** `Invalid value: "x": Expected value: "y"` / `Required value: field not found…` (k8s field.Error). */
export function formatViolation(v: Violation): string {
  if (v.type === 'Required') return `Required value: ${v.detail}`;
  const shown = v.value === undefined ? '' : `${describeExpected(v.value)}: `;
  return `Invalid value: ${shown}${v.detail}`;
}
