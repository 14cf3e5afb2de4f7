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
const TYPE_OBJECT = 4;
const TYPE_EXPREF = 6;

type Node = Ast & Record<string, unknown>;

class KyvernoInterpreter extends LibraryInterpreterClass {
  bindings: Bindings = Bindings.empty();
  budget: Budget = unlimitedBudget();
  readonly exprefs = new WeakSet<object>();

  override visit(node: Ast, value: unknown): unknown {
    this.budget.charge();
    const n = node as Node;
    switch (n.type) {
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

/** Cost of handing `args` to a function: one step per array element / object key / 64 chars. */
function argumentCost(args: unknown[]): number {
  let cost = 1;
  for (const a of args) {
    if (Array.isArray(a)) cost += a.length;
    else if (typeof a === 'string') cost += a.length >> 6;
    else if (isObject(a)) cost += Object.keys(a).length;
  }
  return cost;
}

export class JmesPath {
  private readonly interp = new KyvernoInterpreter();
  private readonly cache = new Map<string, Ast>();
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
    const libCall = runtime.callFunction.bind(runtime);
    runtime.callFunction = (name: string, args: unknown[]) => {
      this.interp.budget.charge(argumentCost(args));
      return libCall(name, args);
    };
    for (const def of functions(this.env)) {
      const result = runtime.register(def.name, def.fn, def.signature, { override: true });
      if (!result.success) throw new Error(`cannot register JMESPath function ${def.name}: ${result.message ?? ''}`);
    }
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
    const interp = this.interp;
    const savedBindings = interp.bindings;
    const savedBudget = interp.budget;
    interp.bindings = bindings;
    interp.budget = budget;
    try {
      const out = interp.visit(ast, value);
      return (out === undefined ? null : out) as JsonValue;
    } catch (err) {
      if (err instanceof SyncgateError) throw err;
      if (err instanceof RangeError) {
        throw new PolicyEvalError(PolicyErrorCode.BUDGET_EXCEEDED, `evaluation too deep: ${err.message}`, undefined, { cause: err });
      }
      const msg = err instanceof Error ? err.message : String(err);
      throw new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, msg, undefined, { cause: err });
    } finally {
      interp.bindings = savedBindings;
      interp.budget = savedBudget;
    }
  }

  /** Convenience for tests and pre-processors: compile + evaluate. */
  search(expression: string, value: JsonValue, bindings: Bindings = Bindings.empty(), budget: Budget = unlimitedBudget()): JsonValue {
    return this.evaluate(this.compile(expression), value, bindings, budget);
  }
}
