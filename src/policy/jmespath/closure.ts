/**
 * Compiles a JMESPath AST into a JavaScript closure once, at policy load, so evaluation does no
 * per-node dispatch. Semantics are those of our `KyvernoInterpreter` (interpreter.ts): own-property
 * field access, `$` is null, arithmetic on non-numbers gives null, division by zero is an error,
 * variables come from `Bindings`, every node visit charges the budget. Fast paths: field chains
 * (`a.b.c`), literals, comparisons, `||`/`&&`/`!`, projections, filters, flatten, multi-selects,
 * `let`, and function calls with their argument validators resolved at compile time. Node types
 * without a fast path (slices, expression references, functions taking `&expr`) run on the
 * interpreter, with the same bindings and budget.
 *
 * Budget: an expression is charged its node count once per evaluation (see `nodeCount`); only
 * work that grows with the data is charged inside (one step per element a projection, filter or
 * flatten walks, and per argument element handed to a function), so runaway work still ends in
 * BudgetExceededError without a charge per node visit.
 */
import type { Bindings } from './bindings.js';
import type { Budget } from './budget.js';
import { PolicyErrorCode, PolicyEvalError } from '../errors.js';
import { deepEqual } from '../compare.js';
import { isObject, type Ast, type JsonValue } from './types.js';

/** A compiled expression: `@` = value. Throws like the interpreter (plain errors are wrapped by the caller). */
export type Closure = (value: JsonValue, bindings: Bindings, budget: Budget) => JsonValue;

/** What the compiler needs from the runtime. */
export interface ClosureHost {
  /** Runs `node` on the interpreter with these bindings and budget (fallback). */
  interpret(node: Ast, value: JsonValue, bindings: Bindings, budget: Budget): JsonValue;
  /** The callable for function `name` (validates arguments, charges the budget), or undefined if unknown. */
  functionCaller(name: string): ((args: JsonValue[], bindings: Bindings, budget: Budget) => JsonValue) | undefined;
  /** A specialised closure for a call whose shape allows one (see `constantMembership`), else undefined. */
  fastFunction?(name: string, args: Ast[], compile: (n: Ast) => Closure): Closure | undefined;
}

/** The value of a constant argument (a literal, or a list of literals), else undefined. */
export function constantOf(node: Ast): { value: JsonValue } | undefined {
  const n = node as Node;
  if (n.type === 'Literal') return { value: n.value as JsonValue };
  if (n.type === 'MultiSelectList' && (n.children as Node[]).every((x) => x.type === 'Literal')) {
    return { value: (n.children as Node[]).map((x) => x.value as JsonValue) };
  }
  return undefined;
}

type Node = Ast & Record<string, unknown>;

/** JMESPath falsiness: null, false, '', [], {}. */
export function isFalse(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return true;
  if (typeof v === 'string') return v === '';
  if (typeof v === 'object') {
    if (Array.isArray(v)) return v.length === 0;
    for (const k in v) if (Object.hasOwn(v, k)) return false;
    return true;
  }
  return false;
}

function divisionByZero(what: string): PolicyEvalError {
  return new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, `${what} by zero`);
}

function containsExpref(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if ((node as Node).type === 'ExpressionReference') return true;
  for (const v of Object.values(node)) {
    if (Array.isArray(v)) {
      for (const e of v) if (containsExpref(e)) return true;
    } else if (v !== null && typeof v === 'object' && containsExpref(v)) {
      return true;
    }
  }
  return false;
}

/** `a.b.c` as a list of field names, or undefined if `node` is not a pure field chain. */
function fieldChain(node: Node): string[] | undefined {
  if (node.type === 'Field') return [node.name as string];
  if (node.type === 'Subexpression') {
    const left = fieldChain(node.left as Node);
    const right = fieldChain(node.right as Node);
    if (left && right) return [...left, ...right];
  }
  return undefined;
}

function field(v: JsonValue, name: string): JsonValue {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  return Object.hasOwn(v, name) ? (v[name] ?? null) : null;
}

/**
 * A field reader for `name` with the semantics of `field`, faster: a JSON object's inherited
 * members are all functions (a JSON value never is), except `__proto__`, which takes the slow path.
 */
function fieldReader(name: string): (v: JsonValue) => JsonValue {
  if (name === '__proto__') return (v) => field(v, name);
  return (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
    const x = (v as Record<string, unknown>)[name];
    return x === undefined || typeof x === 'function' ? null : (x as JsonValue);
  };
}

/** Number of nodes of an AST (its fixed cost). */
export function nodeCount(node: unknown): number {
  if (node === null || typeof node !== 'object') return 0;
  if (Array.isArray(node)) {
    let n = 0;
    for (const e of node) n += nodeCount(e);
    return n;
  }
  let n = typeof (node as Node).type === 'string' ? 1 : 0;
  for (const [k, v] of Object.entries(node)) if (k !== 'value' && v !== null && typeof v === 'object') n += nodeCount(v);
  return n;
}

export function compileClosure(ast: Ast, host: ClosureHost): Closure {
  const c = (n: Ast): Closure => compileClosure(n, host);
  const n = ast as Node;
  const fallback: Closure = (v, b, budget) => host.interpret(ast, v, b, budget);
  switch (n.type) {
    case 'Literal': {
      const lit = n.value as JsonValue;
      return () => {
        return lit;
      };
    }
    case 'Current':
    case 'Identity':
      return (v) => {
        return v;
      };
    case 'Root':
      return () => {
        return null;
      };
    case 'Field':
    case 'Subexpression': {
      const chain = fieldChain(n);
      if (chain) {
        const readers = chain.map(fieldReader);
        const [r0, r1, r2, r3] = readers as [(v: JsonValue) => JsonValue, ...((v: JsonValue) => JsonValue)[]];
        switch (readers.length) {
          case 1:
            return r0;
          case 2:
            return (v) => (r1 as (v: JsonValue) => JsonValue)(r0(v));
          case 3:
            return (v) => (r2 as (v: JsonValue) => JsonValue)((r1 as (v: JsonValue) => JsonValue)(r0(v)));
          case 4:
            return (v) => (r3 as (v: JsonValue) => JsonValue)((r2 as (v: JsonValue) => JsonValue)((r1 as (v: JsonValue) => JsonValue)(r0(v))));
          default:
            return (v) => {
              let cur = v;
              for (let i = 0; i < readers.length && cur !== null; i++) cur = (readers[i] as (v: JsonValue) => JsonValue)(cur);
              return cur;
            };
        }
      }
      if (n.type === 'Field') return fallback;
      const left = c(n.left as Ast);
      const right = c(n.right as Ast);
      return (v, b, budget) => {
        const l = left(v, b, budget);
        return l === null || l === undefined ? null : (right(l, b, budget) ?? null);
      };
    }
    case 'Variable': {
      const name = n.name as string;
      return (_v, b) => {
        return b.lookup(name);
      };
    }
    case 'Index': {
      const index = n.value as number;
      return (v) => {
        if (!Array.isArray(v)) return null;
        return (v[index < 0 ? v.length + index : index] ?? null) as JsonValue;
      };
    }
    case 'IndexExpression':
    case 'Pipe': {
      const left = c(n.left as Ast);
      const right = c(n.right as Ast);
      return (v, b, budget) => {
        return right(left(v, b, budget), b, budget);
      };
    }
    case 'Projection': {
      const l = n.left as Node;
      if (l.type === 'IndexExpression' && (l.right as Node).type === 'Slice') return fallback; // string slices
      const left = c(l);
      const right = c(n.right as Ast);
      return (v, b, budget) => {
        const base = left(v, b, budget);
        if (!Array.isArray(base)) return null;
        budget.charge(base.length);
        const out: JsonValue[] = [];
        for (const e of base) {
          const r = right(e, b, budget);
          if (r !== null) out.push(r);
        }
        return out;
      };
    }
    case 'ValueProjection': {
      const left = c(n.left as Ast);
      const right = c(n.right as Ast);
      return (v, b, budget) => {
        const base = left(v, b, budget);
        if (!isObject(base)) return null;
        const values = Object.values(base);
        budget.charge(values.length);
        const out: JsonValue[] = [];
        for (const e of values) {
          const r = right(e as JsonValue, b, budget);
          if (r !== null) out.push(r);
        }
        return out;
      };
    }
    case 'FilterProjection': {
      const left = c(n.left as Ast);
      const right = c(n.right as Ast);
      const cond = c(n.condition as Ast);
      return (v, b, budget) => {
        const base = left(v, b, budget);
        if (!Array.isArray(base)) return null;
        budget.charge(base.length);
        const out: JsonValue[] = [];
        for (const e of base) {
          if (isFalse(cond(e, b, budget))) continue;
          const r = right(e, b, budget);
          if (r !== null) out.push(r);
        }
        return out;
      };
    }
    case 'Flatten': {
      const child = c(n.child as Ast);
      return (v, b, budget) => {
        const orig = child(v, b, budget);
        if (!Array.isArray(orig)) return null;
        budget.charge(orig.length);
        return orig.flat() as JsonValue[];
      };
    }
    case 'MultiSelectList': {
      const nodes = n.children as Node[];
      if (nodes.every((x) => x.type === 'Literal')) {
        // constant: built once (literal values are shared between evaluations anyway)
        const constant = nodes.map((x) => x.value as JsonValue);
        return () => constant;
      }
      const children = nodes.map(c);
      return (v, b, budget) => {
        const out = new Array<JsonValue>(children.length);
        for (let i = 0; i < children.length; i++) out[i] = (children[i] as Closure)(v, b, budget);
        return out;
      };
    }
    case 'MultiSelectHash': {
      const children = (n.children as { name: string; value: Ast }[]).map((ch) => ({ name: ch.name, fn: c(ch.value) }));
      return (v, b, budget) => {
        const out: Record<string, JsonValue> = {};
        for (const ch of children) out[ch.name] = ch.fn(v, b, budget);
        return out;
      };
    }
    case 'Comparator':
      return compileComparator(n, c);
    case 'OrExpression': {
      const left = c(n.left as Ast);
      const right = c(n.right as Ast);
      return (v, b, budget) => {
        const l = left(v, b, budget);
        return isFalse(l) ? right(v, b, budget) : l;
      };
    }
    case 'AndExpression': {
      const left = c(n.left as Ast);
      const right = c(n.right as Ast);
      return (v, b, budget) => {
        const l = left(v, b, budget);
        return isFalse(l) ? l : right(v, b, budget);
      };
    }
    case 'NotExpression': {
      const child = c(n.child as Ast);
      return (v, b, budget) => {
        return isFalse(child(v, b, budget));
      };
    }
    case 'Ternary': {
      const cond = c(n.condition as Ast);
      const t = c(n.trueExpr as Ast);
      const f = c(n.falseExpr as Ast);
      return (v, b, budget) => {
        return isFalse(cond(v, b, budget)) ? f(v, b, budget) : t(v, b, budget);
      };
    }
    case 'LetExpression': {
      const bindings = (n.bindings as { variable: string; reference: Ast }[]).map((x) => ({ name: x.variable, fn: c(x.reference) }));
      const body = c(n.expression as Ast);
      return (v, b, budget) => {
        let inner = b;
        for (const x of bindings) {
          inner = inner.with(x.name, x.fn(v, b, budget));
        }
        return body(v, inner, budget);
      };
    }
    case 'Arithmetic':
      return compileArithmetic(n, c);
    case 'Unary': {
      const operand = c(n.operand as Ast);
      const negate = n.operator === 'Minus';
      return (v, b, budget) => {
        const x = operand(v, b, budget);
        if (typeof x !== 'number') return null;
        return negate ? -x : x;
      };
    }
    case 'Function': {
      if (containsExpref(n)) return fallback;
      const name = n.name as string;
      const call = host.functionCaller(name);
      if (call === undefined) return fallback; // the interpreter reports the unknown function
      const fast = host.fastFunction?.(name, n.children as Ast[], c);
      if (fast !== undefined) return fast;
      const args = (n.children as Ast[]).map(c);
      return (v, b, budget) => {
        const values = new Array<JsonValue>(args.length);
        for (let i = 0; i < args.length; i++) values[i] = (args[i] as Closure)(v, b, budget);
        return call(values, b, budget);
      };
    }
    default:
      return fallback;
  }
}

function compileComparator(n: Node, c: (n: Ast) => Closure): Closure {
  const left = c(n.left as Ast);
  const right = c(n.right as Ast);
  switch (n.name) {
    case 'EQ':
      return (v, b, budget) => {
        const l = left(v, b, budget);
        const r = right(v, b, budget);
        return l === r || deepEqual(l, r);
      };
    case 'NE':
      return (v, b, budget) => {
        const l = left(v, b, budget);
        const r = right(v, b, budget);
        return !(l === r || deepEqual(l, r));
      };
    default: {
      const op = n.name as string;
      return (v, b, budget) => {
        const l = left(v, b, budget);
        const r = right(v, b, budget);
        if (typeof l !== 'number' || typeof r !== 'number') return null;
        switch (op) {
          case 'GT':
            return l > r;
          case 'GTE':
            return l >= r;
          case 'LT':
            return l < r;
          case 'LTE':
            return l <= r;
          default:
            return null;
        }
      };
    }
  }
}

function compileArithmetic(n: Node, c: (n: Ast) => Closure): Closure {
  const left = c(n.left as Ast);
  const right = c(n.right as Ast);
  const op = n.operator as string;
  return (v, b, budget) => {
    const l = left(v, b, budget);
    const r = right(v, b, budget);
    if (typeof l !== 'number' || typeof r !== 'number') return null;
    switch (op) {
      case 'Plus':
        return l + r;
      case 'Minus':
        return l - r;
      case 'Multiply':
      case 'Star':
        return l * r;
      case 'Divide':
        if (r === 0) throw divisionByZero('division');
        return l / r;
      case 'Div':
        if (r === 0) throw divisionByZero('division');
        return Math.floor(l / r);
      case 'Modulo':
        if (r === 0) throw divisionByZero('modulo');
        return l % r;
      default:
        throw new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, `unknown arithmetic operator ${op}`);
    }
  };
}
