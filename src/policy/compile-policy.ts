/**
 * Turns a schema-valid ValidatingPolicy document into a `LoadedPolicy`: every tree, leaf,
 * context value, identifier and message template is compiled once. Rule-level validity the
 * schema cannot express (empty match/exclude/assert, expression syntax, forbidden modifiers,
 * CEL) is checked here, so a bad policy is rejected at load rather than erroring per resource.
 */
import { CompileError, compileExpression, compileTree, compileValue, type CompileContext, type Compiler } from './assertion/compile.js';
import { prepareTree } from './assertion/evaluate.js';
import type { Expression, TreeNode } from './assertion/types.js';
import type { JmesPath } from './jmespath/interpreter.js';
import type { JsonObject, JsonValue } from './jmespath/types.js';
import type { AssertDocument, MatchDocument, PolicyDocument, RuleDocument } from './schema.js';
import { compileTemplate } from './templates.js';
import type { CompiledAssertion, CompiledContextEntry, CompiledMatch, CompiledRule, LoadedPolicy } from './types.js';
import { astFacts, memoId, treeAsts } from './memo.js';

/** Compiles a tree and its closures (so evaluation never compiles). */
function tree(ctx: CompileContext, raw: JsonValue, path: string): TreeNode {
  const node = compileTree(ctx, raw, path);
  prepareTree(node);
  return node;
}

function withCompiler(ctx: CompileContext, c: Compiler | undefined): CompileContext {
  return c === undefined || c === ctx.compiler ? ctx : { ...ctx, compiler: c };
}

function compileMatch(ctx: CompileContext, m: MatchDocument, path: string): CompiledMatch {
  const any = m.any ?? [];
  const all = m.all ?? [];
  if (any.length === 0 && all.length === 0) throw new CompileError('must have at least one of "any" or "all"', path);
  const c = withCompiler(ctx, m.compiler);
  const out: CompiledMatch = {
    any: any.map((t, i) => tree(c, t as JsonValue, `${path}.any[${i}]`)),
    all: all.map((t, i) => tree(c, t as JsonValue, `${path}.all[${i}]`)),
    memo: undefined,
  };
  const facts = astFacts([...out.any, ...out.all].flatMap((t) => treeAsts(t)));
  if (!facts.nondeterministic && [...facts.variables].every((v) => v === 'payload')) out.memo = memoId(`match:${c.compiler}:${JSON.stringify(m)}`);
  return out;
}

/** Context entries; an expression entry that reads only the resource and earlier memoizable entries is memoizable. */
function compileContext(ctx: CompileContext, entries: NonNullable<RuleDocument['context']>, path: string): CompiledContextEntry[] {
  const out: CompiledContextEntry[] = [];
  const shareable = new Map<string, boolean>();
  entries.forEach((entry, i) => {
    const value = compileValue(withCompiler(ctx, entry.compiler), (entry.variable ?? null) as JsonValue, `${path}.context[${i}].variable`);
    let memo: number | undefined;
    let ok = true;
    if (value.kind === 'expression') {
      const facts = astFacts([value.ast]);
      ok = !facts.nondeterministic && [...facts.variables].every((v) => v === 'payload' || shareable.get(v) === true);
      if (ok) memo = memoId(`context:${ctx.compiler}:${JSON.stringify(entries.slice(0, i + 1))}`);
    }
    shareable.set(entry.name, ok);
    out.push({ name: entry.name, value, memo });
  });
  return out;
}

function compileAssert(ctx: CompileContext, a: AssertDocument, path: string): CompiledRule['assert'] {
  const c = withCompiler(ctx, a.compiler);
  const one = (kind: 'any' | 'all') =>
    (a[kind] ?? []).map((assertion, j): CompiledAssertion => {
      const checkPath = `${path}.${kind}[${j}]`;
      const ac = withCompiler(c, assertion.compiler);
      let message;
      if (assertion.message !== undefined) {
        try {
          message = compileTemplate(ctx.jp, assertion.message);
        } catch (err) {
          throw new CompileError((err as Error).message, `${checkPath}.message`);
        }
      }
      return { check: tree(ac, assertion.check as JsonValue, `${checkPath}.check`), message, checkPath };
    });
  const out = { any: one('any'), all: one('all') };
  if (out.any.length === 0 && out.all.length === 0) throw new CompileError('must have at least one of "any" or "all"', path);
  return out;
}

function compileRule(base: CompileContext, rule: RuleDocument, index: number, raw: JsonObject): CompiledRule {
  const path = `spec.rules[${index}]`;
  const ctx = withCompiler(base, rule.compiler);
  const context = compileContext(ctx, rule.context ?? [], path);
  (rule.feedback ?? []).forEach((f, i) => compileValue(withCompiler(ctx, f.compiler), (f.value ?? null) as JsonValue, `${path}.feedback[${i}].value`));
  // identifiers are always JMESPath
  const identifier = rule.identifier !== undefined ? compileExpression({ ...ctx, compiler: 'jp' }, rule.identifier, 'jp', `${path}.identifier`) : undefined;
  const match = rule.match ? compileMatch(ctx, rule.match, `${path}.match`) : undefined;
  const exclude = rule.exclude ? compileMatch(ctx, rule.exclude, `${path}.exclude`) : undefined;
  return {
    name: rule.name,
    index,
    raw,
    context,
    match,
    exclude,
    identifier,
    identifierMemo: identifierMemo(identifier),
    assert: compileAssert(ctx, rule.assert, `${path}.assert`),
  };
}

function identifierMemo(identifier: Expression | undefined): number | undefined {
  if (identifier === undefined) return undefined;
  const facts = astFacts([identifier.ast]);
  return !facts.nondeterministic && [...facts.variables].every((v) => v === 'payload') ? memoId(`identifier:${identifier.source}`) : undefined;
}

/** Throws CompileError (with the field path) on the first problem. */
export function compilePolicy(jp: JmesPath, doc: PolicyDocument, raw: JsonObject, file: string | undefined, document: number): LoadedPolicy {
  const ctx: CompileContext = { jp, compiler: doc.spec.compiler ?? 'jp' };
  const rawRules = ((raw.spec as JsonObject).rules ?? []) as JsonObject[];
  return {
    name: doc.metadata.name,
    file,
    document,
    labels: doc.metadata.labels ?? {},
    annotations: doc.metadata.annotations ?? {},
    raw,
    rules: doc.spec.rules.map((r, i) => compileRule(ctx, r, i, rawRules[i] as JsonObject)),
  };
}
