/**
 * Policy tests for policy authors (`syncgate policy test DIR`, like `kyverno test`): a
 * `syncgate-test.yaml` beside the policies names the policies, the resource files and the
 * expected result per (policy, rule, resource). Every listed expectation is checked; unlisted
 * (policy, rule, resource) triples are not. A malformed test file, an unknown policy or rule, or a
 * resource reference that does not name exactly one resource is a `PolicyTestError` (exit 2);
 * a result that differs from the expectation is a mismatch (exit 1). Test files are named
 * `syncgate-test.yaml` or `*.test.yaml`; the resources they use conventionally live in `tests/`.
 *
 * ```yaml
 * apiVersion: syncgate.dev/v1alpha1
 * kind: PolicyTest
 * metadata: {name: pss-baseline}
 * policies: [pss-baseline.yaml]          # files or directories, relative to this file
 * resources: [tests/good.yaml, tests/bad.yaml]
 * bindings: {allowedRegistries: [ghcr.io]} # optional: a mapping, or a file name
 * results:
 *   - policy: pss-baseline
 *     rule: host-namespaces               # optional: omitted = every rule of the policy
 *     resources: [bad-host-namespaces]    # name | Kind/name | Kind/namespace/name | #index
 *     result: fail                        # pass | fail | error | skip
 * ```
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { evaluate } from './engine.js';
import { isTestMaterial, loadPolicies } from './loader.js';
import { parseBindings, parsePayload, toResources } from './payload.js';
import { formatIssuePath } from './schema.js';
import { isObject, type JsonValue } from './jmespath/types.js';
import { loadYamlDocuments } from './yaml.js';
import type { LoadedPolicy, PolicyResult, ResultStatus } from './types.js';

export const TEST_API_VERSION = 'syncgate.dev/v1alpha1';
export const TEST_KIND = 'PolicyTest';
export const TEST_FILE_NAMES = ['syncgate-test.yaml', 'syncgate-test.yml'];

/** Test definitions: `syncgate-test.yaml`, or any `*.test.yaml` / `*.test.yml` (resources go in `tests/`). */
export function isTestFile(name: string): boolean {
  const lower = name.toLowerCase();
  return TEST_FILE_NAMES.includes(lower) || lower.endsWith('.test.yaml') || lower.endsWith('.test.yml');
}

export const PolicyTestErrorCode = {
  /** A test file cannot be read, does not parse, or does not follow the schema. */
  INVALID: 'POLICY_TEST_INVALID',
  /** A test file names a policy, rule or resource that does not exist (or a resource ambiguously). */
  REFERENCE: 'POLICY_TEST_BAD_REFERENCE',
  /** No test file was found under the given path. */
  NONE_FOUND: 'POLICY_TEST_NONE_FOUND',
} as const;

/** A test file that cannot be used (exit 2). */
export class PolicyTestError extends InputError {}

const status = z.enum(['pass', 'fail', 'error', 'skip']);
const expectation = z
  .strictObject({
    policy: z.string().min(1),
    rule: z.string().min(1).optional(),
    resource: z.string().min(1).optional(),
    resources: z.array(z.string().min(1)).min(1).optional(),
    result: status,
  })
  .refine((e) => (e.resource === undefined) !== (e.resources === undefined), { message: 'give exactly one of "resource" or "resources"' });

const testSchema = z.strictObject({
  apiVersion: z.literal(TEST_API_VERSION),
  kind: z.literal(TEST_KIND),
  metadata: z.looseObject({ name: z.string().min(1) }),
  policies: z.array(z.string().min(1)).min(1),
  resources: z.array(z.string().min(1)).min(1),
  bindings: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  results: z.array(expectation),
});

export interface Expectation {
  policy: string;
  /** undefined = every rule of the policy */
  rule: string | undefined;
  resources: string[];
  result: ResultStatus;
}

export interface PolicyTest {
  file: string;
  name: string;
  policies: string[];
  resources: string[];
  bindings: string | Record<string, JsonValue> | undefined;
  results: Expectation[];
}

export interface TestCheck {
  policy: string;
  rule: string;
  /** the reference as written in the test file */
  resource: string;
  resourceIndex: number;
  expected: ResultStatus;
  actual: ResultStatus;
  /** the engine's message for the actual result (fail details, error text) */
  message?: string;
}

export interface TestFileReport {
  file: string;
  name: string;
  checks: TestCheck[];
  mismatches: TestCheck[];
}

function invalid(file: string, message: string, fieldPath?: string): PolicyTestError {
  return new PolicyTestError(PolicyTestErrorCode.INVALID, `${file}${fieldPath ? ` at ${fieldPath}` : ''}: ${message}`, { file, ...(fieldPath ? { path: fieldPath } : {}) });
}

/** Parses and validates a test file's text. */
export function parseTestFile(text: string, file: string): PolicyTest {
  let docs: unknown[];
  try {
    docs = loadYamlDocuments(text, file).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    throw invalid(file, `invalid YAML: ${(err as Error).message}`);
  }
  if (docs.length !== 1) throw invalid(file, `a test file holds exactly one ${TEST_KIND} document, found ${docs.length}`);
  const parsed = testSchema.safeParse(docs[0]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const p = formatIssuePath(issue.path);
    throw invalid(file, `invalid ${TEST_KIND}: ${p || '<root>'}: ${issue.message}`, p || undefined);
  }
  const d = parsed.data;
  return {
    file,
    name: d.metadata.name,
    policies: d.policies,
    resources: d.resources,
    bindings: d.bindings as PolicyTest['bindings'],
    results: d.results.map((e) => ({ policy: e.policy, rule: e.rule, resources: e.resources ?? [e.resource as string], result: e.result })),
  };
}

export async function loadTestFile(file: string): Promise<PolicyTest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw invalid(file, `cannot read test file: ${(err as Error).message}`);
  }
  return parseTestFile(text, file);
}

async function walkTests(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!isTestMaterial(e.name, true) && e.name !== 'node_modules' && !e.name.startsWith('.')) await walkTests(full, out);
    } else if (e.isFile() && isTestFile(e.name)) {
      out.push(full);
    }
  }
}

/** The test files under `target` (a directory walked recursively, or one test file). */
export async function findTestFiles(target: string): Promise<string[]> {
  let s;
  try {
    s = await stat(target);
  } catch (err) {
    throw new PolicyTestError(PolicyTestErrorCode.INVALID, `${target}: cannot read: ${(err as Error).message}`, { file: target });
  }
  if (!s.isDirectory()) return [target];
  const out: string[] = [];
  await walkTests(target, out);
  if (out.length === 0) throw new PolicyTestError(PolicyTestErrorCode.NONE_FOUND, `${target}: no test file (syncgate-test.yaml or *.test.yaml) found`, { file: target });
  return out;
}

/** The names a resource can be referred to by: `name`, `Kind/name`, `Kind/namespace/name`. */
export function resourceNames(resource: JsonValue): string[] {
  if (!isObject(resource)) return [];
  const meta = isObject(resource.metadata) ? resource.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : undefined;
  if (name === undefined) return [];
  const out = [name];
  if (typeof resource.kind === 'string') {
    out.push(`${resource.kind}/${name}`);
    if (typeof meta.namespace === 'string') out.push(`${resource.kind}/${meta.namespace}/${name}`);
  }
  return out;
}

async function loadResources(test: PolicyTest, dir: string): Promise<JsonValue[]> {
  const out: JsonValue[] = [];
  for (const rel of test.resources) {
    const file = path.resolve(dir, rel);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new PolicyTestError(PolicyTestErrorCode.REFERENCE, `${test.file}: resources: cannot read ${rel}: ${(err as Error).message}`, { file: test.file, path: 'resources' });
    }
    const payload = parsePayload(text, file);
    if (payload !== null) out.push(...toResources(payload));
  }
  return out;
}

async function loadBindings(test: PolicyTest, dir: string): Promise<Record<string, JsonValue>> {
  if (test.bindings === undefined) return {};
  if (typeof test.bindings !== 'string') return test.bindings;
  const file = path.resolve(dir, test.bindings);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PolicyTestError(PolicyTestErrorCode.REFERENCE, `${test.file}: bindings: cannot read ${test.bindings}: ${(err as Error).message}`, { file: test.file, path: 'bindings' });
  }
  return parseBindings(text, file);
}

function resolveReference(ref: string, resources: JsonValue[], index: Map<string, number[]>, test: PolicyTest, at: string): number {
  if (/^#\d+$/.test(ref)) {
    const i = Number(ref.slice(1));
    if (i < resources.length) return i;
  } else {
    const found = index.get(ref) ?? [];
    if (found.length === 1) return found[0] as number;
    if (found.length > 1) {
      throw new PolicyTestError(PolicyTestErrorCode.REFERENCE, `${test.file} at ${at}: resource "${ref}" is ambiguous (${found.length} resources); use Kind/name, Kind/namespace/name or #index`, { file: test.file, path: at });
    }
  }
  throw new PolicyTestError(PolicyTestErrorCode.REFERENCE, `${test.file} at ${at}: no resource "${ref}" in ${test.resources.join(', ')}`, { file: test.file, path: at });
}

/** Expands the expectations into (policy, rule, resource index) checks, validating every reference. */
function expand(test: PolicyTest, policies: LoadedPolicy[], resources: JsonValue[]): Omit<TestCheck, 'actual'>[] {
  const index = new Map<string, number[]>();
  resources.forEach((r, i) => {
    for (const n of new Set(resourceNames(r))) index.set(n, [...(index.get(n) ?? []), i]);
  });
  const byName = new Map(policies.map((p) => [p.name, p]));
  const seen = new Map<string, ResultStatus>();
  const out: Omit<TestCheck, 'actual'>[] = [];
  test.results.forEach((e, i) => {
    const at = `results[${i}]`;
    const policy = byName.get(e.policy);
    if (!policy) throw new PolicyTestError(PolicyTestErrorCode.REFERENCE, `${test.file} at ${at}.policy: no policy "${e.policy}" in ${test.policies.join(', ')}`, { file: test.file, path: `${at}.policy` });
    const rules = e.rule === undefined ? policy.rules.map((r) => r.name) : [e.rule];
    if (e.rule !== undefined && !policy.rules.some((r) => r.name === e.rule)) {
      throw new PolicyTestError(PolicyTestErrorCode.REFERENCE, `${test.file} at ${at}.rule: policy "${e.policy}" has no rule "${e.rule}"`, { file: test.file, path: `${at}.rule` });
    }
    for (const ref of e.resources) {
      const resourceIndex = resolveReference(ref, resources, index, test, `${at}.resources`);
      for (const rule of rules) {
        const key = `${e.policy}\u0000${rule}\u0000${resourceIndex}`;
        const prior = seen.get(key);
        if (prior !== undefined && prior !== e.result) {
          throw new PolicyTestError(PolicyTestErrorCode.INVALID, `${test.file} at ${at}: ${e.policy}/${rule} on "${ref}" is expected both ${prior} and ${e.result}`, { file: test.file, path: at });
        }
        if (prior === undefined) {
          seen.set(key, e.result);
          out.push({ policy: e.policy, rule, resource: ref, resourceIndex, expected: e.result });
        }
      }
    }
  });
  return out;
}

/** Runs one test: loads its policies, resources and bindings, evaluates, compares. */
export async function runPolicyTest(test: PolicyTest, options: { now?: () => Date } = {}): Promise<TestFileReport> {
  const dir = path.dirname(test.file);
  const policies = await loadPolicies(test.policies.map((p) => path.resolve(dir, p)));
  const resources = await loadResources(test, dir);
  const bindings = await loadBindings(test, dir);
  const wanted = expand(test, policies, resources);
  const results = evaluate(policies, resources, { bindings, includeSkipped: true, ...(options.now ? { now: options.now } : {}) });
  const actual = new Map<string, PolicyResult>();
  for (const r of results) actual.set(`${r.policy}\u0000${r.rule}\u0000${r.resourceIndex}`, r);
  const checks: TestCheck[] = wanted.map((w) => {
    const r = actual.get(`${w.policy}\u0000${w.rule}\u0000${w.resourceIndex}`);
    const check: TestCheck = { ...w, actual: r?.status ?? 'skip' };
    if (r?.message !== undefined && r.status !== 'skip') check.message = r.message;
    return check;
  });
  return { file: test.file, name: test.name, checks, mismatches: checks.filter((c) => c.expected !== c.actual) };
}
