import { evaluate, parsePolicyDocuments, jmespath, type EvaluateOptions, type JsonValue, type PolicyResult } from '../../src/policy/index.js';

/** A one-rule policy from the YAML of the rule body (indented as under `rules: - `). */
export function rulePolicy(ruleYaml: string, name = 'p'): string {
  const body = ruleYaml
    .replace(/^\n/, '')
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  return `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: ${name}
spec:
  rules:
    - name: r
${body}
`;
}

/** Evaluates one check tree (YAML) on one resource; returns the single result. */
export function check(checkYaml: string, resource: unknown, opts: EvaluateOptions = {}): PolicyResult {
  const indented = checkYaml
    .replace(/^\n/, '')
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  const text = rulePolicy(`assert:\n  all:\n  - check:\n${indented}`);
  const results = evaluate(parsePolicyDocuments(text, 'test.yaml'), [resource], opts);
  return results[0] as PolicyResult;
}

export function run(policyYaml: string, resources: unknown[], opts: EvaluateOptions = {}): PolicyResult[] {
  return evaluate(parsePolicyDocuments(policyYaml, 'test.yaml'), resources, opts);
}

/** Evaluates a JMESPath expression with the kyverno-json function table. */
export function jp(expression: string, data: JsonValue = null): JsonValue {
  return jmespath.search(expression, data);
}
