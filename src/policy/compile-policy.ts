/**
 * Turns a schema-valid ValidatingPolicy document into a `LoadedPolicy`: every tree, leaf,
 * context value, identifier and message template is compiled once. Rule-level validity the
 * schema cannot express (empty match/exclude/assert, expression syntax, forbidden modifiers,
 * CEL) is checked here, so a bad policy is rejected at load rather than erroring per resource.
 */
import { CompileError, compileExpression, compileTree, compileValue, type CompileContext, type Compiler } from './assertion/compile.js';
import type { JmesPath } from './jmespath/interpreter.js';
import type { JsonObject, JsonValue } from './jmespath/types.js';
import type { AssertDocument, MatchDocument, PolicyDocument, RuleDocument } from './schema.js';
import { compileTemplate } from './templates.js';
import type { CompiledAssertion, CompiledMatch, CompiledRule, LoadedPolicy } from './types.js';

function withCompiler(ctx: CompileContext, c: Compiler | undefined): CompileContext {
  return c === undefined || c === ctx.compiler ? ctx : { ...ctx, compiler: c };
}

function compileMatch(ctx: CompileContext, m: MatchDocument, path: string): CompiledMatch {
  const any = m.any ?? [];
  const all = m.all ?? [];
  if (any.length === 0 && all.length === 0) throw new CompileError('must have at least one of "any" or "all"', path);
  const c = withCompiler(ctx, m.compiler);
  return {
    any: any.map((t, i) => compileTree(c, t as JsonValue, `${path}.any[${i}]`)),
    all: all.map((t, i) => compileTree(c, t as JsonValue, `${path}.all[${i}]`)),
  };
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
      return { check: compileTree(ac, assertion.check as JsonValue, `${checkPath}.check`), message, checkPath };
    });
  const out = { any: one('any'), all: one('all') };
  if (out.any.length === 0 && out.all.length === 0) throw new CompileError('must have at least one of "any" or "all"', path);
  return out;
}

function compileRule(base: CompileContext, rule: RuleDocument, index: number, raw: JsonObject): CompiledRule {
  const path = `spec.rules[${index}]`;
  const ctx = withCompiler(base, rule.compiler);
  const context = (rule.context ?? []).map((entry, i) => ({
    name: entry.name,
    value: compileValue(withCompiler(ctx, entry.compiler), (entry.variable ?? null) as JsonValue, `${path}.context[${i}].variable`),
  }));
  (rule.feedback ?? []).forEach((f, i) => compileValue(withCompiler(ctx, f.compiler), (f.value ?? null) as JsonValue, `${path}.feedback[${i}].value`));
  // identifiers are always JMESPath
  const identifier = rule.identifier !== undefined ? compileExpression({ ...ctx, compiler: 'jp' }, rule.identifier, 'jp', `${path}.identifier`) : undefined;
  return {
    name: rule.name,
    index,
    raw,
    context,
    match: rule.match ? compileMatch(ctx, rule.match, `${path}.match`) : undefined,
    exclude: rule.exclude ? compileMatch(ctx, rule.exclude, `${path}.exclude`) : undefined,
    identifier,
    assert: compileAssert(ctx, rule.assert, `${path}.assert`),
  };
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
