/**
 * The ValidatingPolicy (json.kyverno.io/v1alpha1) document schema, as strict as the upstream
 * CRD: unknown fields are rejected; `spec`, `spec.rules`, `rule.name`, `rule.assert` and
 * `assertion.check` are required; `compiler` is `jp` or `cel`; trees, context variables and
 * feedback values are schemaless.
 */
import { z } from 'zod';

export const API_VERSION = 'json.kyverno.io/v1alpha1';
export const KIND = 'ValidatingPolicy';

const compiler = z.enum(['jp', 'cel']).optional();
/** a free-form value that must be present (not undefined/null) */
const present = z.custom<unknown>((v) => v !== undefined && v !== null, { message: 'Required' });
const tree = z.unknown();

const contextEntry = z.strictObject({ compiler, name: z.string().min(1), variable: z.unknown().optional() });
const feedback = z.strictObject({ compiler, name: z.string().min(1), value: z.unknown().optional() });
const match = z.strictObject({ compiler, any: z.array(tree).optional(), all: z.array(tree).optional() });
const assertion = z.strictObject({ compiler, message: z.string().optional(), check: present });
const assert = z.strictObject({ compiler, any: z.array(assertion).optional(), all: z.array(assertion).optional() });

export const ruleSchema = z.strictObject({
  name: z.string().min(1).max(63),
  compiler,
  context: z.array(contextEntry).optional(),
  match: match.optional(),
  exclude: match.optional(),
  identifier: z.string().optional(),
  feedback: z.array(feedback).optional(),
  assert,
});

const metadata = z.looseObject({
  name: z.string().min(1),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const policySchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata,
  spec: z.strictObject({ compiler, rules: z.array(ruleSchema) }),
});

export type PolicyDocument = z.infer<typeof policySchema>;
export type RuleDocument = z.infer<typeof ruleSchema>;
export type MatchDocument = z.infer<typeof match>;
export type AssertDocument = z.infer<typeof assert>;
export type ContextDocument = z.infer<typeof contextEntry>;

/** `spec.rules[0].assert` from a zod issue path. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}
