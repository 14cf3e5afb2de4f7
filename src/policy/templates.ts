/**
 * Message templates: every `{{ expr }}` (non-greedy, single line, trimmed) is a JMESPath
 * expression evaluated with `@` = the resource and the rule-level bindings. A string result is
 * inserted verbatim; null gives `ERR (<expr> not found)`, another type `ERR (<expr> not a string)`,
 * an error `ERR (<expr> - <error>)`. Expressions are compiled at load (bad syntax is a load error);
 * substitution is a single pass (an inserted value is never re-templated).
 */
import type { Bindings } from './jmespath/bindings.js';
import type { Budget } from './jmespath/budget.js';
import type { JmesPath } from './jmespath/interpreter.js';
import type { Ast, JsonValue } from './jmespath/types.js';

const PLACEHOLDER = /\{\{(.*?)\}\}/g;

type Part = string | { ast: Ast; source: string; fn: (value: JsonValue, bindings: Bindings, budget: Budget) => JsonValue };

export interface Template {
  source: string;
  parts: Part[];
}

/** Throws Error (with the statement) when an expression does not parse. */
export function compileTemplate(jp: JmesPath, source: string): Template {
  const parts: Part[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    const statement = (m[1] as string).trim();
    let ast: Ast;
    try {
      ast = jp.compile(statement);
    } catch (err) {
      throw new Error(`invalid JMESPath expression "${statement}" in message template: ${(err as Error).message}`, { cause: err });
    }
    if (m.index > last) parts.push(source.slice(last, m.index));
    parts.push({ ast, source: statement, fn: jp.compileFn(ast) });
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  return { source, parts };
}

export function renderTemplate(t: Template, jp: JmesPath, resource: JsonValue, bindings: Bindings, budget: Budget): string {
  let out = '';
  for (const part of t.parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    let v: JsonValue;
    try {
      v = part.fn(resource, bindings, budget);
    } catch (err) {
      out += `ERR (${part.source} - ${err instanceof Error ? err.message : String(err)})`;
      continue;
    }
    if (v === null) out += `ERR (${part.source} not found)`;
    else if (typeof v !== 'string') out += `ERR (${part.source} not a string)`;
    else out += v;
  }
  return out;
}
