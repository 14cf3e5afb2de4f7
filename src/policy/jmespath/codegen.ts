/**
 * Generates one JavaScript function per JMESPath expression (at policy load), so that V8 compiles
 * each expression to straight-line code: field chains become property reads, `||`/`&&`/`!` and
 * comparisons become branches, projections and filters become loops. Semantics are exactly those
 * of the closures in closure.ts (and so of the interpreter); node types without a generator here
 * call the closure compiled for that node.
 *
 * Safety: the generated source is built only from fixed templates, numbered temporaries, integer
 * indexes validated as such, and property names passed through JSON.stringify (a string literal
 * that cannot close itself). Every other value of the policy (literals, names of variables and
 * functions, callables) is handed over through the constants array `K`, never as source text.
 */
import type { Bindings } from './bindings.js';
import type { Budget } from './budget.js';
import { compileClosure, constantOf, isFalse, type Closure, type ClosureHost } from './closure.js';
import { deepEqual } from '../compare.js';
import { PolicyErrorCode, PolicyEvalError } from '../errors.js';
import type { Ast, JsonValue } from './types.js';

type Node = Ast & Record<string, unknown>;

/** The helpers generated expression code calls as `H`. */
export const EXPRESSION_HELPERS = {
  isFalse,
  deepEqual,
  containsArray(list: JsonValue[], x: JsonValue): boolean {
    // a scalar equals (JMESPath ==) exactly the elements that are === to it
    if (x === null || typeof x !== 'object') return list.includes(x);
    for (let i = 0; i < list.length; i++) if (deepEqual(list[i] as JsonValue, x)) return true;
    return false;
  },
  field(v: JsonValue, name: string): JsonValue {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
    return Object.hasOwn(v, name) ? (v[name] ?? null) : null;
  },
  byZero(what: string): never {
    throw new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, `${what} by zero`);
  },
};

function containsExpref(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if ((node as Node).type === 'ExpressionReference') return true;
  for (const v of Object.values(node)) if (v !== null && typeof v === 'object' && containsExpref(v)) return true;
  return false;
}

export class Generator {
  readonly lines: string[] = [];
  readonly consts: unknown[] = [];
  private temps = 0;
  /** variables of the root scope already looked up, by name: read once per evaluation */
  private readonly cached = new Map<string, string>();
  /** inline fast paths for functions are off when an expression reference could reach them */
  private inlineFunctions = true;
  /** `let` variables held in JS temporaries (innermost last), when no fallback needs Bindings */
  private readonly lexical: Map<string, string>[] = [];

  /** `rootScope`: the JS variable holding the bindings the generated function receives */
  constructor(
    readonly host: ClosureHost,
    readonly rootScope = 'b',
  ) {}

  /** Call before emitting `root` (disables inlined functions when it holds `&expr`). */
  prepare(root: unknown): void {
    if (containsExpref(root)) this.inlineFunctions = false;
  }

  temp(): string {
    return `t${this.temps++}`;
  }

  declarations(): string {
    return this.temps === 0 ? '' : `let ${Array.from({ length: this.temps }, (_, i) => `t${i}`).join(', ')};`;
  }

  k(value: unknown): string {
    this.consts.push(value);
    return `K[${this.consts.length - 1}]`;
  }

  line(s: string): void {
    this.lines.push(s);
  }

  /** Emits code computing `node` with `@` in JS variable `cur` and bindings in `bv`; returns the variable (or constant) holding the result. */
  emit(node: Node, cur: string, bv: string): string {
    switch (node.type) {
      case 'Literal':
        return this.k(node.value);
      case 'Current':
      case 'Identity':
        return cur;
      case 'Root':
        return 'null';
      case 'Field':
        return this.fieldChain([node.name as string], cur);
      case 'Subexpression': {
        const chain = fieldNames(node);
        if (chain) return this.fieldChain(chain, cur);
        const left = this.emit(node.left as Node, cur, bv);
        const t = this.temp();
        this.line(`${t} = null;`);
        this.line(`if (${left} !== null && ${left} !== undefined) {`);
        const right = this.emit(node.right as Node, left, bv);
        this.line(`${t} = ${right} ?? null;`);
        this.line('}');
        return t;
      }
      case 'Variable': {
        for (let i = this.lexical.length - 1; i >= 0; i--) {
          const held = (this.lexical[i] as Map<string, string>).get(node.name as string);
          if (held !== undefined) return held;
        }
        const t = this.temp();
        if (bv !== this.rootScope) {
          this.line(`${t} = ${bv}.lookup(${this.k(node.name)});`);
          return t;
        }
        // the root scope does not change during one evaluation: look each name up once (lazily,
        // so an undefined variable still fails only where it is evaluated)
        let c = this.cached.get(node.name as string);
        if (c === undefined) {
          c = this.temp();
          this.cached.set(node.name as string, c);
        }
        this.line(`${t} = ${c} !== undefined ? ${c} : (${c} = ${bv}.lookup(${this.k(node.name)}));`);
        return t;
      }
      case 'Index': {
        const index = node.value;
        if (typeof index !== 'number' || !Number.isInteger(index)) return this.fallback(node, cur, bv);
        const t = this.temp();
        const at = index < 0 ? `${cur}.length - ${-index}` : String(index);
        this.line(`${t} = Array.isArray(${cur}) ? (${cur}[${at}] ?? null) : null;`);
        return t;
      }
      case 'IndexExpression':
      case 'Pipe': {
        const left = this.emit(node.left as Node, cur, bv);
        return this.emit(node.right as Node, left, bv);
      }
      case 'Projection': {
        const l = node.left as Node;
        if (l.type === 'IndexExpression' && (l.right as Node).type === 'Slice') return this.fallback(node, cur, bv);
        return this.loop(node, this.emit(l, cur, bv), bv, false);
      }
      case 'FilterProjection':
        return this.loop(node, this.emit(node.left as Node, cur, bv), bv, true);
      case 'ValueProjection': {
        const base = this.emit(node.left as Node, cur, bv);
        const vals = this.temp();
        this.line(`${vals} = (${base} !== null && typeof ${base} === 'object' && !Array.isArray(${base})) ? Object.values(${base}) : null;`);
        return this.loop(node, vals, bv, false);
      }
      case 'Flatten': {
        const child = this.emit(node.child as Node, cur, bv);
        const t = this.temp();
        this.line(`if (Array.isArray(${child})) { budget.charge(${child}.length); ${t} = ${child}.flat(); } else ${t} = null;`);
        return t;
      }
      case 'MultiSelectList': {
        const constant = constantOf(node);
        if (constant) return this.k(constant.value);
        const parts = (node.children as Node[]).map((c) => this.emit(c, cur, bv));
        const t = this.temp();
        this.line(`${t} = [${parts.join(', ')}];`);
        return t;
      }
      case 'MultiSelectHash': {
        const t = this.temp();
        const children = node.children as unknown as { name: string; value: Node }[];
        const values = children.map((c) => this.emit(c.value, cur, bv));
        this.line(`${t} = {};`);
        children.forEach((c, i) => this.line(`${t}[${this.k(c.name)}] = ${values[i]};`));
        return t;
      }
      case 'Comparator':
        return this.comparator(node, cur, bv);
      case 'OrExpression':
      case 'AndExpression': {
        const left = this.emit(node.left as Node, cur, bv);
        const t = this.temp();
        const falsy = `(${left} === null || ${left} === undefined || ${left} === false || ${left} === '' || (typeof ${left} === 'object' && H.isFalse(${left})))`;
        this.line(`if (${node.type === 'OrExpression' ? '' : '!'}${falsy}) {`);
        const right = this.emit(node.right as Node, cur, bv);
        this.line(`${t} = ${right};`);
        this.line(`} else ${t} = ${left};`);
        return t;
      }
      case 'NotExpression': {
        const child = this.emit(node.child as Node, cur, bv);
        const t = this.temp();
        this.line(`${t} = H.isFalse(${child});`);
        return t;
      }
      case 'Ternary': {
        const cond = this.emit(node.condition as Node, cur, bv);
        const t = this.temp();
        this.line(`if (!H.isFalse(${cond})) {`);
        const yes = this.emit(node.trueExpr as Node, cur, bv);
        this.line(`${t} = ${yes};`);
        this.line('} else {');
        const no = this.emit(node.falseExpr as Node, cur, bv);
        this.line(`${t} = ${no};`);
        this.line('}');
        return t;
      }
      case 'LetExpression': {
        const lets = node.bindings as unknown as { variable: string; reference: Node }[];
        if (!this.needsBindings(node.expression as Node)) {
          // every binding expression sees the outer scope; the body sees them all (later wins)
          const frame = new Map<string, string>();
          const values = lets.map((x) => this.emit(x.reference, cur, bv));
          lets.forEach((x, i) => frame.set(x.variable, values[i] as string));
          this.lexical.push(frame);
          try {
            return this.emit(node.expression as Node, cur, bv);
          } finally {
            this.lexical.pop();
          }
        }
        const inner = this.temp();
        this.line(`${inner} = ${bv};`);
        for (const x of lets) {
          const value = this.emit(x.reference, cur, bv);
          this.line(`${inner} = ${inner}.with(${this.k(x.variable)}, ${value});`);
        }
        return this.emit(node.expression as Node, cur, inner);
      }
      case 'Arithmetic':
        return this.arithmetic(node, cur, bv);
      case 'Unary': {
        const x = this.emit(node.operand as Node, cur, bv);
        const t = this.temp();
        this.line(`${t} = typeof ${x} === 'number' ? ${node.operator === 'Minus' ? '-' : ''}${x} : null;`);
        return t;
      }
      case 'Function':
        return this.call(node, cur, bv);
      default:
        return this.fallback(node, cur, bv);
    }
  }

  /** Whether code for `node` would hand the bindings to a closure (a fallback or an `&expr` function). */
  private needsBindings(node: unknown): boolean {
    if (node === null || typeof node !== 'object') return false;
    if (Array.isArray(node)) return node.some((n) => this.needsBindings(n));
    const n = node as Node;
    switch (n.type) {
      case 'Slice':
      case 'ExpressionReference':
        return true;
      case 'Projection': {
        const l = n.left as Node;
        if (l.type === 'IndexExpression' && (l.right as Node).type === 'Slice') return true;
        break;
      }
      case 'Index':
        if (typeof n.value !== 'number' || !Number.isInteger(n.value)) return true;
        break;
      case 'Function':
        if (this.host.functionCaller(n.name as string) === undefined || containsExpref(n)) return true;
        break;
      case 'Arithmetic':
        if (!['Plus', 'Minus', 'Multiply', 'Star', 'Divide', 'Div', 'Modulo'].includes(n.operator as string)) return true;
        break;
      default:
        if (typeof n.type === 'string' && !HANDLED.has(n.type)) return true;
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'value' && v !== null && typeof v === 'object' && this.needsBindings(v)) return true;
    return false;
  }

  private fallback(node: Node, cur: string, bv: string): string {
    const fn = compileClosure(node, this.host);
    const t = this.temp();
    this.line(`${t} = ${this.k(fn)}(${cur}, ${bv}, budget) ?? null;`);
    return t;
  }

  private fieldChain(names: string[], cur: string): string {
    const t = this.temp();
    this.line(`${t} = ${cur};`);
    for (const name of names) {
      if (name === '__proto__') {
        this.line(`${t} = H.field(${t}, ${this.k(name)});`);
        continue;
      }
      // JSON values are never functions: an inherited Object.prototype member reads as null
      this.line(`if (${t} !== null && typeof ${t} === 'object' && !Array.isArray(${t})) { ${t} = ${t}[${JSON.stringify(name)}]; if (${t} === undefined || typeof ${t} === 'function') ${t} = null; } else ${t} = null;`);
    }
    return t;
  }

  private loop(node: Node, base: string, bv: string, filter: boolean): string {
    const t = this.temp();
    const e = this.temp();
    this.line(`if (Array.isArray(${base})) {`);
    this.line(`budget.charge(${base}.length);`);
    this.line(`${t} = [];`);
    this.line(`for (let i = 0; i < ${base}.length; i++) {`);
    this.line(`${e} = ${base}[i];`);
    if (filter) {
      const c = node.condition as Node;
      const cond = this.emit(c, e, bv);
      // comparisons (==, !=) and negations give booleans: no truthiness test needed
      const boolean = c.type === 'NotExpression' || (c.type === 'Comparator' && (c.name === 'EQ' || c.name === 'NE'));
      this.line(boolean ? `if (!${cond}) continue;` : `if (H.isFalse(${cond})) continue;`);
    }
    const r = this.emit(node.right as Node, e, bv);
    this.line(`if (${r} !== null) ${t}.push(${r});`);
    this.line('}');
    this.line(`} else ${t} = null;`);
    return t;
  }

  private comparator(node: Node, cur: string, bv: string): string {
    const l = this.emit(node.left as Node, cur, bv);
    const r = this.emit(node.right as Node, cur, bv);
    const t = this.temp();
    switch (node.name) {
      case 'EQ':
        this.line(`${t} = ${l} === ${r} || H.deepEqual(${l}, ${r});`);
        break;
      case 'NE':
        this.line(`${t} = !(${l} === ${r} || H.deepEqual(${l}, ${r}));`);
        break;
      default: {
        const op = { GT: '>', GTE: '>=', LT: '<', LTE: '<=' }[node.name as string];
        if (op === undefined) this.line(`${t} = null;`);
        else this.line(`${t} = typeof ${l} === 'number' && typeof ${r} === 'number' ? ${l} ${op} ${r} : null;`);
      }
    }
    return t;
  }

  private arithmetic(node: Node, cur: string, bv: string): string {
    const l = this.emit(node.left as Node, cur, bv);
    const r = this.emit(node.right as Node, cur, bv);
    const t = this.temp();
    const guard = `typeof ${l} === 'number' && typeof ${r} === 'number'`;
    switch (node.operator) {
      case 'Plus':
        this.line(`${t} = ${guard} ? ${l} + ${r} : null;`);
        break;
      case 'Minus':
        this.line(`${t} = ${guard} ? ${l} - ${r} : null;`);
        break;
      case 'Multiply':
      case 'Star':
        this.line(`${t} = ${guard} ? ${l} * ${r} : null;`);
        break;
      case 'Divide':
        this.line(`${t} = ${guard} ? (${r} === 0 ? H.byZero('division') : ${l} / ${r}) : null;`);
        break;
      case 'Div':
        this.line(`${t} = ${guard} ? (${r} === 0 ? H.byZero('division') : Math.floor(${l} / ${r})) : null;`);
        break;
      case 'Modulo':
        this.line(`${t} = ${guard} ? (${r} === 0 ? H.byZero('modulo') : ${l} % ${r}) : null;`);
        break;
      default:
        return this.fallback(node, cur, bv);
    }
    return t;
  }

  private call(node: Node, cur: string, bv: string): string {
    const name = node.name as string;
    const children = node.children as Node[];
    const caller = this.host.functionCaller(name);
    if (caller === undefined || containsExpref(node)) return this.fallback(node, cur, bv);
    const t = this.temp();
    // contains(<constant list of scalars>, x): a set lookup for a scalar x
    const list = name === 'contains' && children.length === 2 ? constantOf(children[0] as Ast) : undefined;
    if (list && Array.isArray(list.value) && list.value.every((x) => x === null || typeof x !== 'object')) {
      const x = this.emit(children[1] as Node, cur, bv);
      const set = this.k(new Set(list.value));
      this.line(`if (${x} === null || typeof ${x} !== 'object') { budget.charge(${list.value.length + 1}); ${t} = ${set}.has(${x}); }`);
      this.line(`else ${t} = ${this.k(caller)}([${this.k(list.value)}, ${x}], ${bv}, budget);`);
      return t;
    }
    const args = children.map((c) => this.emit(c, cur, bv));
    const generic = `${this.k(caller)}([${args.join(', ')}], ${bv}, budget)`;
    const fast = this.inlineFunctions ? inlineCall(name, args) : undefined;
    this.line(fast ? `${t} = ${fast} : ${generic};` : `${t} = ${generic};`);
    return t;
  }
}

/**
 * `cond ? result` for functions whose common case is cheap to do inline (same results as the
 * registered function); the generic call handles everything else, including argument errors.
 */
function inlineCall(name: string, a: string[]): string | undefined {
  const [x, y] = a;
  switch (a.length === 2 ? name : a.length === 1 ? `${name}/1` : '') {
    case 'starts_with':
    case 'ends_with':
      return `typeof ${x} === 'string' && typeof ${y} === 'string' ? (budget.charge(3), ${x}.${name === 'starts_with' ? 'startsWith' : 'endsWith'}(${y}))`;
    case 'contains':
      return `Array.isArray(${x}) ? (budget.charge(${x}.length + 3), H.containsArray(${x}, ${y})) : typeof ${x} === 'string' ? (budget.charge(3), typeof ${y} === 'string' && ${x}.includes(${y}))`;
    case 'split':
      return `typeof ${x} === 'string' && typeof ${y} === 'string' && ${y} !== '' ? (budget.charge(3), ${x}.split(${y}))`;
    case 'lookup':
      return `${x} !== null && typeof ${x} === 'object' && !Array.isArray(${x}) && typeof ${y} === 'string' ? (budget.charge(3), Object.hasOwn(${x}, ${y}) ? ${x}[${y}] : null)`;
    case 'length/1':
      return `Array.isArray(${x}) ? (budget.charge(${x}.length + 2), ${x}.length)`;
    default:
      return undefined;
  }
}

/** Node types `emit` generates code for (anything else falls back to a closure). */
const HANDLED = new Set([
  'Literal', 'Current', 'Identity', 'Root', 'Field', 'Subexpression', 'Variable', 'Index', 'IndexExpression', 'Pipe', 'Projection',
  'FilterProjection', 'ValueProjection', 'Flatten', 'MultiSelectList', 'MultiSelectHash', 'Comparator', 'OrExpression', 'AndExpression',
  'NotExpression', 'Ternary', 'LetExpression', 'Arithmetic', 'Unary', 'Function', 'Binding', 'KeyValuePair',
]);

function fieldNames(node: Node): string[] | undefined {
  if (node.type === 'Field') return [node.name as string];
  if (node.type === 'Subexpression') {
    const l = fieldNames(node.left as Node);
    const r = fieldNames(node.right as Node);
    if (l && r) return [...l, ...r];
  }
  return undefined;
}

/** The generated function for `ast`, or undefined when generation is not possible. */
export function generateClosure(ast: Ast, host: ClosureHost): Closure | undefined {
  const g = new Generator(host, 'b');
  g.prepare(ast);
  let result: string;
  try {
    result = g.emit(ast as Node, 'v', 'b');
  } catch {
    return undefined;
  }
  const body = `"use strict";\nreturn function jmespathExpression(v, b, budget) {\n${g.declarations()}\n${g.lines.join('\n')}\nreturn ${result};\n};`;
  // Without code generation (node --disallow-code-generation-from-strings) the closure is used.
  try {
    const make = new Function('K', 'H', body) as (k: unknown[], h: typeof EXPRESSION_HELPERS) => (v: JsonValue, b: Bindings, budget: Budget) => JsonValue;
    return make(g.consts, EXPRESSION_HELPERS);
  } catch {
    return undefined;
  }
}
