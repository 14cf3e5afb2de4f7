/**
 * JMESPath variable bindings as an immutable linked list: adding a binding never changes the
 * scope it was added to, so tree-local bindings (`->name`, `~name.`) are visible to descendants
 * only. Entries may be lazy (context entries): evaluated at most once, when first referenced;
 * an error is remembered and re-raised at every reference.
 */
import { PolicyErrorCode, PolicyEvalError } from '../errors.js';
import type { JsonValue } from './types.js';

type Thunk = () => JsonValue;

export class Bindings {
  private static readonly EMPTY = new Bindings(null, '', null, undefined);

  private resolved: boolean;
  private failure: unknown;
  private compute: Thunk | undefined;

  private constructor(
    private readonly parent: Bindings | null,
    readonly name: string,
    private value: JsonValue,
    private thunk: Thunk | undefined,
  ) {
    this.resolved = thunk === undefined;
  }

  static empty(): Bindings {
    return Bindings.EMPTY;
  }

  /** A scope holding every key of `obj` as a binding (external bindings, `--bindings`). */
  static fromObject(obj: Record<string, JsonValue>, parent: Bindings = Bindings.EMPTY): Bindings {
    let scope = parent;
    for (const [k, v] of Object.entries(obj)) scope = scope.with(k, v);
    return scope;
  }

  /** Name without the `$`. */
  with(name: string, value: JsonValue): Bindings {
    return new Bindings(this, name, value, undefined);
  }

  /**
   * A binding whose value can be re-pointed in place: the engine builds each rule's
   * resource-independent scope once per evaluation and moves `$payload` from resource to
   * resource. Only for synchronous, single-owner use.
   */
  slot(name: string): { scope: Bindings; set(value: JsonValue): void } {
    const node = new Bindings(this, name, null, undefined);
    return {
      scope: node,
      set: (value) => {
        node.value = value;
      },
    };
  }

  /**
   * A binding whose value is produced by `compute` at every reference (the engine's per-resource
   * memo stands behind it, so it is still computed once per resource). Never cached in the node.
   */
  withComputed(name: string, compute: Thunk): Bindings {
    const node = new Bindings(this, name, null, undefined);
    node.compute = compute;
    return node;
  }

  withLazy(name: string, thunk: Thunk): Bindings {
    return new Bindings(this, name, null, thunk);
  }

  private static find(start: Bindings, name: string): Bindings | undefined {
    for (let b: Bindings | null = start; b !== null && b !== Bindings.EMPTY; b = b.parent) {
      if (b.name === name) return b;
    }
    return undefined;
  }

  has(name: string): boolean {
    return Bindings.find(this, name) !== undefined;
  }

  lookup(name: string): JsonValue {
    const b = Bindings.find(this, name);
    if (b === undefined) throw new PolicyEvalError(PolicyErrorCode.EVAL_ERROR, `undefined variable $${name}`);
    return b.get();
  }

  /** Names in scope, innermost first, without duplicates (for diagnostics). */
  names(): string[] {
    const seen = new Set<string>();
    Bindings.collect(this, seen);
    return [...seen];
  }

  private static collect(start: Bindings, seen: Set<string>): void {
    for (let b: Bindings | null = start; b !== null && b !== Bindings.EMPTY; b = b.parent) seen.add(b.name);
  }

  private get(): JsonValue {
    if (this.compute !== undefined) return this.compute();
    if (this.resolved) {
      if (this.failure !== undefined) throw this.failure;
      return this.value;
    }
    const thunk = this.thunk as Thunk;
    this.thunk = undefined;
    this.resolved = true;
    try {
      this.value = thunk();
    } catch (err) {
      this.failure = err;
      throw err;
    }
    return this.value;
  }
}
