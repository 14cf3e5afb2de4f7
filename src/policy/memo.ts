/**
 * Sharing work between the rules of one evaluation, per resource. Many rules repeat the same
 * `match` block (the workload kinds) and the same context entries (`$podSpec`, `$containers`);
 * when such a block or entry depends on nothing but the resource (no external, tree or policy
 * binding, no clock or randomness), its value is the same for every rule, so it is computed once
 * per resource and reused. Only successful results are shared: an evaluation error is
 * re-raised by every rule that evaluates it, as without sharing.
 */
import type { TreeNode } from './assertion/types.js';
import type { Ast, JsonValue } from './jmespath/types.js';

/** Functions whose result is not a function of their arguments. */
const NONDETERMINISTIC = new Set(['time_now', 'time_now_utc', 'time_since', 'random']);

const ids = new Map<string, number>();

/** A process-wide small integer for `key` (same key, same id). */
export function memoId(key: string): number {
  let id = ids.get(key);
  if (id === undefined) {
    id = ids.size;
    ids.set(key, id);
  }
  return id;
}

export interface AstFacts {
  variables: Set<string>;
  /** calls a function whose result can differ between calls with the same arguments */
  nondeterministic: boolean;
}

function walkAst(node: unknown, facts: AstFacts): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const e of node) walkAst(e, facts);
    return;
  }
  const n = node as Record<string, unknown>;
  if (n.type === 'Variable' && typeof n.name === 'string') facts.variables.add(n.name);
  if (n.type === 'Function' && typeof n.name === 'string' && NONDETERMINISTIC.has(n.name)) facts.nondeterministic = true;
  for (const [k, v] of Object.entries(n)) {
    if (k !== 'type' && v !== null && typeof v === 'object') walkAst(v, facts);
  }
}

export function astFacts(asts: Iterable<Ast>): AstFacts {
  const facts: AstFacts = { variables: new Set(), nondeterministic: false };
  for (const a of asts) walkAst(a, facts);
  return facts;
}

/** Every expression AST in a compiled tree (keys and leaves). */
export function treeAsts(node: TreeNode, out: Ast[] = []): Ast[] {
  switch (node.kind) {
    case 'map':
      for (const e of node.entries) {
        if (e.projection.type === 'expression') out.push(e.projection.ast);
        treeAsts(e.child, out);
      }
      break;
    case 'array':
      for (const t of node.items) treeAsts(t, out);
      break;
    case 'expression':
      out.push(node.ast);
      break;
    default:
      break;
  }
  return out;
}

/** Per-resource values by memo id; `next()` starts a new resource without clearing. */
export class ResourceMemo {
  private generation = 1;
  private values: JsonValue[] = [];
  private gens = new Int32Array(64);

  next(): void {
    this.generation++;
  }

  /** Forgets every value (and lets them be collected). */
  clear(): void {
    this.generation++;
    this.values = [];
  }

  has(id: number): boolean {
    return id < this.gens.length && this.gens[id] === this.generation;
  }

  get(id: number): JsonValue {
    return this.values[id] as JsonValue;
  }

  set(id: number, value: JsonValue): void {
    if (id >= this.gens.length) {
      const grown = new Int32Array(Math.max(id + 1, this.gens.length * 2));
      grown.set(this.gens);
      this.gens = grown;
    }
    this.values[id] = value;
    this.gens[id] = this.generation;
  }
}
