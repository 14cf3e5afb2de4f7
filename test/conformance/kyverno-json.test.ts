/**
 * Conformance over ../shared/corpus/kyverno-json (never copied into the repository):
 * - scan/docs cases: the listed results must match exactly (policy, rule, resource, status), and
 *   every unlisted (resource, policy, rule) must be a `skip`;
 * - load cases: load must succeed with the listed policy names, or fail.
 * A case that needs CEL is counted as unsupported when loading reports POLICY_UNSUPPORTED.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate, loadPolicies, parseBindings, parsePayload, preprocess, toResources, PolicyErrorCode, PolicyLoadError } from '../../src/policy/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = path.resolve(repoRoot, '..', 'shared', 'corpus', 'kyverno-json');

interface CaseFile {
  kind: 'scan' | 'load';
  policies: string[];
  payload?: string;
  preprocessors?: string[];
  bindings?: string | null;
  requires?: string[];
}
interface Expected {
  results?: { policy: string; rule: string; resource: string | number; status: string }[];
  resourceCount?: number;
  load?: { status: 'ok' | 'error'; policies?: string[] };
}
interface IndexFile {
  cases: { path: string; kind: string }[];
}

const counts = { pass: 0, fail: 0, unsupported: 0 };

if (!existsSync(path.join(corpus, 'index.json'))) {
  describe('kyverno-json conformance', () => {
    it.skip(`corpus not found at ${corpus}`, () => {});
  });
  console.warn(`[kyverno-json conformance] corpus not found at ${corpus}: skipping`);
} else {
  const index = JSON.parse(readFileSync(path.join(corpus, 'index.json'), 'utf8')) as IndexFile;

  describe('kyverno-json conformance', () => {
    afterAll(() => {
      console.log(`[kyverno-json conformance] ${index.cases.length} cases: ${counts.pass} pass, ${counts.fail} fail, ${counts.unsupported} unsupported`);
    });

    for (const c of index.cases) {
      const dir = path.join(corpus, c.path);
      const spec = JSON.parse(readFileSync(path.join(dir, 'case.json'), 'utf8')) as CaseFile;
      const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
      const policyPaths = spec.policies.map((p) => path.join(dir, p));

      it(c.path, async () => {
        try {
          if (spec.kind === 'load') {
            const want = expected.load!;
            if (want.status === 'ok') {
              const loaded = await loadPolicies(policyPaths);
              expect(loaded.map((p) => p.name)).toEqual(want.policies);
            } else {
              await expect(loadPolicies(policyPaths)).rejects.toBeInstanceOf(PolicyLoadError);
            }
            counts.pass++;
            return;
          }
          let policies;
          try {
            policies = await loadPolicies(policyPaths);
          } catch (err) {
            if (spec.requires?.includes('cel') && err instanceof PolicyLoadError && err.code === PolicyErrorCode.UNSUPPORTED) {
              counts.unsupported++;
              console.log(`[kyverno-json conformance] ${c.path}: unsupported (needs CEL): ${err.message}`);
              return;
            }
            throw err;
          }
          const payloadFile = path.join(dir, spec.payload!);
          const payload = preprocess(parsePayload(readFileSync(payloadFile, 'utf8'), payloadFile), spec.preprocessors ?? []);
          const resources = toResources(payload);
          const bindingsFile = spec.bindings ? path.join(dir, spec.bindings) : undefined;
          const bindings = bindingsFile ? parseBindings(readFileSync(bindingsFile, 'utf8'), bindingsFile) : {};
          expect(resources.length).toBe(expected.resourceCount);
          const results = evaluate(policies, resources, { bindings });
          const reported = results.filter((r) => r.status !== 'skip').map((r) => ({ policy: r.policy, rule: r.rule, resource: r.resource, status: r.status }));
          expect(reported).toEqual(expected.results);
          expect(results.length).toBe(resources.length * policies.reduce((n, p) => n + p.rules.length, 0));
          counts.pass++;
        } catch (err) {
          counts.fail++;
          throw err;
        }
      });
    }
  });
}
