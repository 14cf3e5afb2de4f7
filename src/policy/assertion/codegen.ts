/**
 * Generates one JavaScript function per assertion tree (at policy load), with the tree's
 * JMESPath expressions inlined (jmespath/codegen.ts): map keys, `~` loops, `->` bindings, array
 * nodes and leaves become straight-line code over the value. Semantics are those of the closure
 * walk in evaluate.ts, which stays the fallback: same violations (paths, types, details), same
 * errors (codes, paths), same budget charges per node. Safety as in jmespath/codegen.ts: policy
 * values reach the generated code only through the constants array `K` (map keys used as
 * property names go through JSON.stringify).
 */
import { PolicyErrorCode, PolicyEvalError } from '../errors.js';
import { equal, match } from '../compare.js';
import type { Bindings } from '../jmespath/bindings.js';
import type { ClosureHost } from '../jmespath/closure.js';
import { EXPRESSION_HELPERS, Generator } from '../jmespath/codegen.js';
import { toEvalError } from '../jmespath/interpreter.js';
import type { Ast, JsonValue } from '../jmespath/types.js';
import type { MapEntry, TreeNode, Violation } from './types.js';

/** The state of one walk (evaluate.ts owns it). */
export interface WalkRun {
  budget: { charge(n?: number): void; checkDepth(d: number): void; limits: { maxDepth: number } };
  path: string[];
  count: number;
  collect: boolean;
  out: Violation[] | null;
}

export type GeneratedWalk = (value: JsonValue, bindings: Bindings, run: WalkRun, depth: number) => void;

export interface TreeHelpers {
  atPath(err: unknown, path: string[]): never;
  describe(v: JsonValue): string;
}

const INDEX = Array.from({ length: 256 }, (_, i) => `[${i}]`);

/** A JS literal for a scalar (strings through JSON.stringify: a literal that cannot escape). */
function scalarLiteral(v: string | number | boolean): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? (Object.is(v, -0) ? '-0' : String(v)) : 'NaN';
  return v ? 'true' : 'false';
}

function makeHelpers(h: TreeHelpers) {
  return {
    push(run: WalkRun, type: Violation['type'], value: JsonValue, detail: string, path: string): void {
      const v: Violation = type === 'Required' ? { path, type, detail } : { path, type, value, detail };
      (run.out ??= []).push(v);
    },
    evalError(path: string, message: string): PolicyEvalError {
      return new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, `${path}: ${message}`, { path });
    },
    fail(err: unknown, path: string): never {
      return h.atPath(toEvalError(err), [path]);
    },
    equalAt(expected: JsonValue, actual: JsonValue, path: string): boolean {
      try {
        return equal(expected, actual);
      } catch (err) {
        return h.atPath(err, [path]);
      }
    },
    match,
    idx: (i: number): string => (i < INDEX.length ? (INDEX[i] as string) : `[${i}]`),
    key: (k: string): string => `[${k}]`,
    describe: h.describe,
    kindOf(v: unknown): string {
      return typeof v === 'object' ? 'map' : typeof v;
    },
  };
}

class TreeGenerator {
  /** the current path as JS expressions (constant segments and loop indexes), joined only when needed */
  private readonly segs: string[] = [];

  constructor(
    readonly g: Generator,
    private readonly helpers: TreeHelpers,
  ) {}

  private path(): string {
    return this.segs.length === 0 ? "''" : `(${this.segs.join(' + ')})`;
  }

  /** tree-level steps are counted in a local and handed to the budget at every loop turn and at the end */
  private charge(n: number): void {
    this.g.line(`S += ${n};`);
  }

  private depth(d: number): void {
    this.g.line(`if (${d} > MD) budget.checkDepth(${d});`);
  }

  private violation(type: Violation['type'], value: string, detail: string): void {
    this.g.line(`run.count++; if (run.collect) H2.push(run, '${type}', ${value}, ${detail}, ${this.path()});`);
  }

  node(node: TreeNode, x: string, bv: string, depth: number, root: boolean): void {
    const g = this.g;
    switch (node.kind) {
      case 'map': {
        this.charge(1);
        this.depth(depth);
        if (node.entries.length === 0) {
          g.line(`if (${x} === null) {`);
          this.violation('Invalid', x, g.k('invalid value, must not be null'));
          g.line('}');
          return;
        }
        for (const e of node.entries) {
          this.segs.push(g.k(root ? e.key : `.${e.key}`));
          this.entry(e, x, bv, depth);
          this.segs.pop();
        }
        return;
      }
      case 'array': {
        this.charge(1);
        this.depth(depth);
        g.line(`if (${x} === null) {`);
        this.violation('Invalid', x, g.k('value is null'));
        g.line(`} else if (!Array.isArray(${x})) throw H2.evalError(${this.path()}, 'expected a slice, got ' + H2.kindOf(${x}));`);
        g.line(`else if (${x}.length !== ${node.items.length}) {`);
        this.violation('Invalid', x, g.k("lengths of slices don't match"));
        g.line('} else {');
        node.items.forEach((item, i) => {
          const e = g.temp();
          g.line(`${e} = ${x}[${i}];`);
          this.segs.push(g.k(`[${i}]`));
          this.node(item, e, bv, depth + 1, false);
          this.segs.pop();
        });
        g.line('}');
        return;
      }
      case 'literal': {
        const expected = node.value;
        const detail = g.k(`Expected value: ${this.helpers.describe(expected)}`);
        const ok = g.temp();
        if (expected !== null && typeof expected === 'object') {
          this.charge(1);
          this.depth(depth);
          g.line(`try { ${ok} = H2.match(${g.k(expected)}, ${x}, budget, ${depth}); } catch (err) { H2.fail(err, ${this.path()}); }`);
        } else {
          this.charge(2);
          this.depth(depth);
          if (expected === null) g.line(`${ok} = ${x} === null;`);
          else {
            const lit = scalarLiteral(expected);
            g.line(`${ok} = ${x} === null ? false : typeof ${x} === '${typeof expected}' ? ${x} === ${lit} : H2.equalAt(${g.k(expected)}, ${x}, ${this.path()});`);
          }
        }
        g.line(`if (!${ok}) {`);
        this.violation('Invalid', x, detail);
        g.line('}');
        return;
      }
      default: {
        // expression leaf: E = expr(@ = x), then Match(E, x)
        const ok = g.temp();
        const e = g.temp();
        this.depth(depth);
        this.charge(node.cost + 3);
        g.line('try {');
        const r = g.emit(node.ast as Ast & Record<string, unknown>, x, bv);
        g.line(`${e} = ${r} ?? null;`);
        g.line(`if (${e} === null || (typeof ${e} !== 'object' && ${x} === null)) ${ok} = ${e} === ${x};`);
        g.line(`else if (typeof ${e} !== 'object' && typeof ${e} === typeof ${x}) ${ok} = ${e} === ${x};`);
        g.line(`else ${ok} = H2.match(${e}, ${x}, budget, ${depth});`);
        g.line(`} catch (err) { H2.fail(err, ${this.path()}); }`);
        g.line(`if (!${ok}) {`);
        this.violation('Invalid', x, `'Expected value: ' + H2.describe(${e})`);
        g.line('}');
      }
    }
  }

  private entry(e: MapEntry, x: string, bv: string, depth: number): void {
    const g = this.g;
    const p = g.temp();
    if (e.projection.type === 'plain') {
      const name = e.projection.name;
      const nameK = g.k(name);
      const message = g.k(`projection not recognized (cannot look up "${name}" in a `);
      const hint = g.k(`; use ~.${name} to iterate)`);
      g.line(`if (${x} === null || (typeof ${x} === 'object' && !Array.isArray(${x}) && !Object.hasOwn(${x}, ${nameK}))) {`);
      this.violation('Required', 'undefined', g.k('field not found in the input object'));
      g.line(`} else if (typeof ${x} !== 'object' || Array.isArray(${x})) throw H2.evalError(${this.path()}, ${message} + (Array.isArray(${x}) ? 'array' : typeof ${x}) + ${hint});`);
      g.line('else {');
      g.line(`${p} = ${x}[${nameK}];`);
      this.descend(e, p, bv, depth);
      g.line('}');
      return;
    }
    this.charge(e.projection.cost);
    g.line('try {');
    const r = g.emit(e.projection.ast as Ast & Record<string, unknown>, x, bv);
    g.line(`${p} = ${r} ?? null;`);
    g.line(`} catch (err) { H2.fail(err, ${this.path()}); }`);
    this.descend(e, p, bv, depth);
  }

  private descend(e: MapEntry, p: string, bv: string, depth: number): void {
    const g = this.g;
    let scope = bv;
    if (e.binding !== undefined) {
      scope = g.temp();
      g.line(`${scope} = ${bv}.with(${g.k(e.binding)}, ${p});`);
    }
    if (!e.foreach) {
      this.node(e.child, p, scope, depth + 1, false);
      return;
    }
    const el = g.temp();
    const inner = e.foreachName !== undefined ? g.temp() : scope;
    const i = g.temp();
    g.line(`if (Array.isArray(${p})) {`);
    g.line(`for (${i} = 0; ${i} < ${p}.length; ${i}++) {`);
    g.line(`${el} = ${p}[${i}]; budget.charge(S); S = 0;`);
    if (e.foreachName !== undefined) g.line(`${inner} = ${scope}.with(${g.k(e.foreachName)}, ${i});`);
    this.segs.push(`H2.idx(${i})`);
    this.node(e.child, el, inner, depth + 1, false);
    this.segs.pop();
    g.line('}');
    g.line(`} else if (${p} !== null && typeof ${p} === 'object') {`);
    const keys = g.temp();
    g.line(`${keys} = Object.keys(${p});`);
    g.line(`for (${i} = 0; ${i} < ${keys}.length; ${i}++) {`);
    g.line(`${el} = ${p}[${keys}[${i}]]; budget.charge(S); S = 0;`);
    if (e.foreachName !== undefined) g.line(`${inner} = ${scope}.with(${g.k(e.foreachName)}, ${keys}[${i}]);`);
    this.segs.push(`H2.key(${keys}[${i}])`);
    this.node(e.child, el, inner, depth + 1, false);
    this.segs.pop();
    g.line('}');
    g.line(`} else throw H2.evalError(${this.path()}, 'expected a slice or a map to iterate, got ' + (${p} === null ? 'null' : typeof ${p}));`);
  }
}

/** The generated walk of a root tree, or undefined when generation is not possible. */
export function generateWalk(root: TreeNode, host: ClosureHost, helpers: TreeHelpers): GeneratedWalk | undefined {
  const g = new Generator(host, 'b0');
  g.prepare(root);
  const t = new TreeGenerator(g, helpers);
  try {
    t.node(root, 'x0', 'b0', 0, true);
  } catch {
    return undefined;
  }
  const body = `"use strict";\nreturn function assertionTree(x0, b0, run, depth) {\nconst budget = run.budget, MD = budget.limits.maxDepth;\nlet S = 0;\n${g.declarations()}\n${g.lines.join('\n')}\nbudget.charge(S);\n};`;
  const make = new Function('K', 'H', 'H2', body) as (k: unknown[], h: unknown, h2: unknown) => GeneratedWalk;
  return make(g.consts, EXPRESSION_HELPERS, makeHelpers(helpers));
}
