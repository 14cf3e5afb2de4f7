/**
 * Compiles assertion trees, scalar leaves and context values once, at policy load. Every
 * expression is parsed here, so syntax errors, forbidden modifiers (foreach / binding in a
 * scalar), unknown compiler prefixes and CEL (not implemented yet) are load errors that name
 * the field path, never surprises at evaluation time.
 */
import type { JmesPath } from '../jmespath/interpreter.js';
import type { JsonValue } from '../jmespath/types.js';
import { isObject } from '../jmespath/types.js';
import { parseKey } from './key.js';
import type { Expression, MapEntry, TreeNode, ValueNode } from './types.js';

export type Compiler = 'jp' | 'cel';

export class CompileError extends Error {
  constructor(
    message: string,
    readonly fieldPath: string,
    readonly unsupported = false,
  ) {
    super(message);
  }
}

export interface CompileContext {
  jp: JmesPath;
  /** the default compiler inherited from `compiler:` fields */
  compiler: Compiler;
}

function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Compiles `statement` with the effective compiler. */
export function compileExpression(ctx: CompileContext, statement: string, prefix: string | undefined, path: string): Expression {
  const compiler = prefix ?? ctx.compiler;
  if (compiler === 'cel') throw new CompileError(`CEL expressions are not supported yet: (${statement})`, path, true);
  if (compiler !== 'jp') throw new CompileError(`unknown expression compiler "${compiler}" in (${compiler};${statement})`, path);
  let ast;
  try {
    ast = ctx.jp.compile(statement);
  } catch (err) {
    throw new CompileError(`invalid JMESPath expression "${statement}": ${(err as Error).message}`, path);
  }
  const { raw, cost } = ctx.jp.compileRaw(ast);
  return { ast, source: statement, fn: ctx.jp.compileFn(ast), raw, cost };
}

/** A scalar leaf, or a context entry's `variable` (maps and arrays are literals there). */
export function compileValue(ctx: CompileContext, value: JsonValue, path: string): ValueNode {
  if (typeof value !== 'string') return { kind: 'literal', value };
  const k = parseKey(value);
  if (k.foreach) throw new CompileError(`foreach is not supported in scalar values: "${value}"`, path);
  if (k.binding !== undefined) throw new CompileError(`binding is not supported in scalar values: "${value}" (escape it as \\${value}\\)`, path);
  if (k.kind === 'expression') return { kind: 'expression', ...compileExpression(ctx, k.statement, k.compiler, path) };
  return { kind: 'literal', value: k.statement };
}

export function compileTree(ctx: CompileContext, tree: JsonValue, path: string, depth = 0): TreeNode {
  if (depth > 200) throw new CompileError('assertion tree nested deeper than 200 levels', path);
  if (Array.isArray(tree)) {
    return { kind: 'array', items: tree.map((t, i) => compileTree(ctx, t, `${path}[${i}]`, depth + 1)) };
  }
  if (isObject(tree)) {
    const entries: MapEntry[] = [];
    for (const [key, child] of Object.entries(tree)) {
      const childPath = joinPath(path, key);
      const k = parseKey(key);
      const projection: MapEntry['projection'] =
        k.kind === 'expression' ? { type: 'expression', ...compileExpression(ctx, k.statement, k.compiler, childPath) } : { type: 'plain', name: k.statement };
      entries.push({
        key,
        projection,
        foreach: k.foreach,
        foreachName: k.foreachName,
        binding: k.binding,
        child: compileTree(ctx, child as JsonValue, childPath, depth + 1),
      });
    }
    return { kind: 'map', entries };
  }
  return compileValue(ctx, tree, path);
}
