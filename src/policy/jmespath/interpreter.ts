/**
 * The JMESPath dialect of kyverno-json on top of @jmespath-community/jmespath.
 *
 * We own one interpreter instance (never the library's global one, so registering functions does
 * not leak into other users of the package) and override a few node types:
 * - `Variable` / `let`: resolved from our immutable `Bindings` (the library's scope chain treats a
 *   falsy outer binding such as `$i = 0` as undefined);
 * - `Field`: own properties only (the library would return `Object.prototype` members such as
 *   `constructor`);
 * - `Root` (`$`): null, as upstream kyverno-json (use `$payload`);
 * - `Arithmetic` / unary: a non-number operand gives null (JMESPath community), division by zero
 *   is an error;
 * - expression references are tagged in a WeakSet so a payload object with an `expref` key is
 *   still an object.
 * Every node visit is charged to the current `Budget`.
 */
import { TreeInterpreter as LibraryInterpreter, compile as jpCompile } from '@jmespath-community/jmespath';
import { PolicyErrorCode, PolicyEvalError } from '../errors.js';
import { SyncgateError } from '../../errors.js';
import { Bindings } from './bindings.js';
import { unlimitedBudget, type Budget } from './budget.js';
import { isObject, type Ast, type FunctionDef, type FunctionEnv, type JsonValue } from './types.js';
import { compileClosure, constantOf, nodeCount, type Closure, type ClosureHost } from './closure.js';
import { generateClosure } from './codegen.js';

interface RuntimeLike {
  register(name: string, fn: (args: JsonValue[]) => JsonValue, sig: FunctionDef['signature'], opts: { override: boolean }): { success: boolean; message?: string };
  callFunction(name: string, args: unknown[]): JsonValue;
  getTypeName(obj: unknown): number | undefined;
  getRegistered(): string[];
}
interface LibraryInterpreterLike {
  runtime: RuntimeLike;
  visit(node: Ast, value: unknown): unknown;
}

const LibraryInterpreterClass = (LibraryInterpreter as object).constructor as new () => LibraryInterpreterLike;
const TYPE_NUMBER = 0;
const TYPE_STRING = 2;
const TYPE_ARRAY = 3;
const TYPE_OBJECT = 4;
const TYPE_BOOLEAN = 5;
const TYPE_EXPREF = 6;
const TYPE_NULL = 7;

type Node = Ast & Record<string, unknown>;

class KyvernoInterpreter extends LibraryInterpreterClass {
  bindings: Bindings = Bindings.empty();
  budget: Budget = unlimitedBudget();
  readonly exprefs = new WeakSet<object>();

  override visit(node: Ast, value: unknown): unknown {
    this.budget.charge();
    const n = node as Node;
    switch (n.type) {
      case 'Literal':
        return n.value;
      case 'Current':
      case 'Identity':
        return value;
      case 'Subexpression': {
        const left = this.visit(n.left as Ast, value);
        return left === null || left === undefined ? null : (this.visit(n.right as Ast, left) ?? null);
      }
      case 'Function': {
        const children = n.children as Ast[];
        const args = new Array<unknown>(children.length);
        for (let i = 0; i < children.length; i++) args[i] = this.visit(children[i] as Ast, value);
        return this.runtime.callFunction(n.name as string, args);
      }
      case 'Field': {
        if (!isObject(value)) return null;
        const name = n.name as string;
        return Object.hasOwn(value, name) ? (value[name] ?? null) : null;
      }
      case 'Variable':
        return this.bindings.lookup(n.name as string);
      case 'LetExpression': {
        const outer = this.bindings;
        let inner = outer;
        for (const b of n.bindings as { variable: string; reference: Ast }[]) {
          inner = inner.with(b.variable, this.visit(b.reference, value) as JsonValue);
        }
        this.bindings = inner;
        try {
          return this.visit(n.expression as Ast, value);
        } finally {
          this.bindings = outer;
        }
      }
      case 'Root':
        return null;
      case 'Arithmetic': {
        const left = this.visit(n.left as Ast, value);
        const right = this.visit(n.right as Ast, value);
        if (typeof left !== 'number' || typeof right !== 'number') return null;
        return arithmetic(n.operator as string, left, right);
      }
      case 'Unary': {
        const operand = this.visit(n.operand as Ast, value);
        if (typeof operand !== 'number') return null;
        return n.operator === 'Minus' ? -operand : operand;
      }
      case 'ExpressionReference': {
        const ref = { ...(n.child as object), expref: true };
        this.exprefs.add(ref);
        return ref;
      }
      default:
        return super.visit(node, value);
    }
  }
}

function arithmetic(op: string, a: number, b: number): number {
  switch (op) {
    case 'Plus':
      return a + b;
    case 'Minus':
      return a - b;
    case 'Multiply':
    case 'Star':
      return a * b;
    case 'Divide':
      if (b === 0) throw new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, 'division by zero');
      return a / b;
    case 'Div':
      if (b === 0) throw new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, 'division by zero');
      return Math.floor(a / b);
    case 'Modulo':
      if (b === 0) throw new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, 'modulo by zero');
      return a % b;
    default:
      throw new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, `unknown arithmetic operator ${op}`);
  }
}

const TYPE_NAMES: Record<number, string> = {
  0: 'number', 1: 'any', 2: 'string', 3: 'array', 4: 'object', 5: 'boolean', 6: 'expression', 7: 'null',
  8: 'Array<number>', 9: 'Array<string>', 10: 'Array<object>', 11: 'Array<Array<any>>',
};
const ELEMENT_TYPE: Record<number, number> = { 8: 0, 9: 2, 10: 4, 11: 3 };

/**
 * Argument checking equivalent to the library's `validateArgs` (same rules, same messages),
 * compiled once per function instead of re-deriving the signature on every call.
 */
function argumentValidator(name: string, signature: FunctionDef['signature'], runtime: RuntimeLike): (args: unknown[]) => void {
  const required = signature.filter((s) => !(s.optional ?? false)).length;
  const variadic = signature[signature.length - 1]?.variadic ?? false;
  const typeOf = (v: unknown): number | undefined => {
    if (v === null) return TYPE_NULL;
    switch (typeof v) {
      case 'string':
        return TYPE_STRING;
      case 'number':
        return TYPE_NUMBER;
      case 'boolean':
        return TYPE_BOOLEAN;
      case 'object':
        return Array.isArray(v) ? TYPE_ARRAY : runtime.getTypeName(v); // objects: expref or object
      default:
        return runtime.getTypeName(v);
    }
  };
  const matches = (actual: number, expected: number, arg: unknown): boolean => {
    if (expected === 1) return true;
    const element = ELEMENT_TYPE[expected];
    if (element === undefined) return actual === expected;
    if (actual !== 3) return false;
    for (const e of arg as unknown[]) {
      const t = typeOf(e);
      if (t !== undefined && !matches(t, element, e)) return false;
    }
    return true;
  };
  // per position: the plain types accepted as a bit mask (any = all bits); typed arrays need the slow check
  const masks = signature.map((sig) => sig.types.reduce((m, t) => (t === 1 ? 0xff : t < 8 ? m | (1 << t) : m), 0));
  return (args) => {
    const tooFew = args.length < required;
    const tooMany = args.length > signature.length;
    if ((variadic && tooFew) || (!variadic && (tooFew || tooMany))) {
      const atLeast = tooFew && ((!variadic && required > 1) || variadic) ? 'at least ' : '';
      throw new Error(`Invalid arity: ${name}() takes ${atLeast}${required} argument${signature.length > 1 ? 's' : ''} but received ${args.length}`);
    }
    for (let i = 0; i < signature.length; i++) {
      const actual = typeOf(args[i]);
      if (actual === undefined || ((masks[i] as number) & (1 << actual)) !== 0) continue;
      const types = (signature[i] as FunctionDef['signature'][number]).types;
      let ok = false;
      for (const t of types) {
        if (matches(actual, t, args[i])) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        const expected = types.map((t) => TYPE_NAMES[t]).join(' | ');
        throw new Error(`Invalid type: ${name}() expected argument ${i + 1} to be type (${expected}) but received type ${TYPE_NAMES[actual]} instead.`);
      }
    }
  };
}

/** Cost of handing `args` to a function: one step per argument, array element and 64 chars. */
function argumentCost(args: unknown[]): number {
  let cost = 1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'string') cost += a.length >> 6;
    else if (Array.isArray(a)) cost += a.length;
    else cost += 1;
  }
  return cost;
}

type FunctionEntry = { _func: (args: unknown[]) => JsonValue; _signature: FunctionDef['signature'] };
type Caller = (args: JsonValue[], bindings: Bindings, budget: Budget) => JsonValue;

/** Anything thrown during evaluation as a SyncgateError (the interpreter's rules). */
export function toEvalError(err: unknown): SyncgateError {
  if (err instanceof SyncgateError) return err;
  if (err instanceof RangeError) {
    return new PolicyEvalError(PolicyErrorCode.BUDGET_EXCEEDED, `evaluation too deep: ${err.message}`, undefined, { cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, msg, undefined, { cause: err });
}

function asEvalError(err: unknown): never {
  throw toEvalError(err);
}

export class JmesPath {
  private readonly interp = new KyvernoInterpreter();
  private readonly cache = new Map<string, Ast>();
  private readonly closures = new WeakMap<Ast, Closure>();
  private readonly callers = new Map<string, Caller | undefined>();
  private readonly host: ClosureHost;
  private table!: Record<string, FunctionEntry>;
  readonly env: FunctionEnv;

  constructor(functions: (env: FunctionEnv) => FunctionDef[], env: FunctionEnv = { now: () => new Date() }) {
    this.env = { now: () => env.now() };
    const runtime = this.interp.runtime;
    const exprefs = this.interp.exprefs;
    const libTypeName = runtime.getTypeName.bind(runtime);
    runtime.getTypeName = (obj: unknown) => {
      if (isObject(obj)) return exprefs.has(obj) ? TYPE_EXPREF : TYPE_OBJECT;
      return libTypeName(obj);
    };
    const table = (runtime as unknown as { _functionTable: Record<string, FunctionEntry> })._functionTable;
    this.table = table;
    // The tree interpreter's calls go through the same resolved callers as compiled code.
    runtime.callFunction = (name: string, args: unknown[]) => {
      const caller = this.functionCaller(name);
      if (caller === undefined) throw new Error(`Unknown function: ${name}()`);
      return caller(args as JsonValue[], this.interp.bindings, this.interp.budget);
    };
    for (const def of functions(this.env)) {
      const result = runtime.register(def.name, def.fn, def.signature, { override: true });
      if (!result.success) throw new Error(`cannot register JMESPath function ${def.name}: ${result.message ?? ''}`);
    }
    const builtinContains = this.functionCaller('contains');
    this.host = {
      interpret: (node, value, bindings, budget) => this.visitWith(node, value, bindings, budget),
      functionCaller: (name) => this.functionCaller(name),
      // `contains(<constant list of scalars>, x)`: a set lookup for scalar x (the result
      // `contains` gives, since JMESPath equality of scalars is ===); anything else takes the call
      fastFunction: (name, args, compile) => {
        if (name !== 'contains' || args.length !== 2) return undefined;
        const list = constantOf(args[0] as Ast);
        if (!list || !Array.isArray(list.value) || !list.value.every((x) => x === null || typeof x !== 'object')) return undefined;
        const members = new Set(list.value);
        const subject = list.value;
        const search = compile(args[1] as Ast);
        const general = builtinContains as Caller;
        return (v, b, budget) => {
          const x = search(v, b, budget);
          if (x === null || typeof x !== 'object') {
            budget.charge(subject.length + 1);
            return members.has(x);
          }
          return general([subject, x], b, budget);
        };
      },
    };
  }

  /** Runs `fn` with the interpreter's bindings and budget set to these (restored after). */
  private withScope<T>(bindings: Bindings, budget: Budget, fn: () => T): T {
    const interp = this.interp;
    const savedBindings = interp.bindings;
    const savedBudget = interp.budget;
    interp.bindings = bindings;
    interp.budget = budget;
    try {
      return fn();
    } finally {
      interp.bindings = savedBindings;
      interp.budget = savedBudget;
    }
  }

  /** Runs the interpreter on `node` with these bindings and budget (no error wrapping). */
  private visitWith(node: Ast, value: JsonValue, bindings: Bindings, budget: Budget): JsonValue {
    const out = this.withScope(bindings, budget, () => this.interp.visit(node, value));
    return (out === undefined ? null : out) as JsonValue;
  }

  /**
   * The callable for a registered function, resolved once: charges the budget, validates the
   * arguments (same rules and messages as the library), calls it. Functions that take `&expr`
   * run with the interpreter's bindings and budget set, since they visit their expression there.
   */
  private functionCaller(name: string): Caller | undefined {
    if (this.callers.has(name)) return this.callers.get(name);
    const entry = Object.hasOwn(this.table, name) ? this.table[name] : undefined;
    let caller: Caller | undefined;
    if (entry !== undefined) {
      const runtime = this.interp.runtime;
      const validate = argumentValidator(name, entry._signature, runtime);
      const fn = entry._func;
      const takesExpref = entry._signature.some((sig) => sig.types.includes(TYPE_EXPREF));
      caller = takesExpref
        ? (args, bindings, budget) => {
            budget.charge(argumentCost(args));
            validate(args);
            return this.withScope(bindings, budget, () => fn.call(runtime, args));
          }
        : (args, _bindings, budget) => {
            budget.charge(argumentCost(args));
            validate(args);
            return fn.call(runtime, args);
          };
    }
    this.callers.set(name, caller);
    return caller;
  }

  /**
   * Compiles `ast` into a closure (cached per AST). Errors are PolicyEvalErrors exactly as from
   * `evaluate()`; use it on every hot path.
   */
  compileFn(ast: Ast): (value: JsonValue, bindings: Bindings, budget: Budget) => JsonValue {
    const { raw: inner, cost } = this.compileRaw(ast);
    return (value, bindings, budget) => {
      try {
        budget.charge(cost);
        const out = inner(value, bindings, budget);
        return out === undefined ? null : out;
      } catch (err) {
        return asEvalError(err);
      }
    };
  }

  /**
   * The bare closure and its fixed cost, for callers that charge `cost`, map `undefined` to null
   * and convert errors (`toEvalError`) themselves, inside a try/catch they already have.
   */
  compileRaw(ast: Ast): { raw: Closure; cost: number } {
    let fn = this.closures.get(ast);
    if (fn === undefined) {
      fn = generateClosure(ast, this.host) ?? compileClosure(ast, this.host);
      this.closures.set(ast, fn);
    }
    return { raw: fn, cost: Math.max(1, nodeCount(ast)) };
  }

  /** What compilers of larger units (assertion trees) need to compile expressions inline. */
  get closureHost(): ClosureHost {
    return this.host;
  }

  /** Names of every function available to policies. */
  functionNames(): string[] {
    return this.interp.runtime.getRegistered().sort();
  }

  /** Parses (and caches) an expression. Throws a plain Error with the parser's message. */
  compile(expression: string): Ast {
    let ast = this.cache.get(expression);
    if (ast === undefined) {
      ast = jpCompile(expression);
      this.cache.set(expression, ast);
    }
    return ast;
  }

  /**
   * Evaluates `ast` with `@` = value. Re-entrant (lazy bindings evaluate inside a visit).
   * Errors are `PolicyEvalError`s; library errors are wrapped with code POLICY_EVAL_ERROR.
   */
  evaluate(ast: Ast, value: JsonValue, bindings: Bindings, budget: Budget): JsonValue {
    try {
      return this.visitWith(ast, value, bindings, budget);
    } catch (err) {
      return asEvalError(err);
    }
  }

  /** Convenience for tests and pre-processors: compile + evaluate. */
  search(expression: string, value: JsonValue, bindings: Bindings = Bindings.empty(), budget: Budget = unlimitedBudget()): JsonValue {
    return this.compileFn(this.compile(expression))(value, bindings, budget);
  }

  /** Like `search`, on the tree interpreter only (to cross-check the compiled closures in tests). */
  interpret(expression: string, value: JsonValue, bindings: Bindings = Bindings.empty(), budget: Budget = unlimitedBudget()): JsonValue {
    return this.evaluate(this.compile(expression), value, bindings, budget);
  }
}
