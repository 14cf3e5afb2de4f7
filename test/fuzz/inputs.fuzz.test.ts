/**
 * The other inputs the gate takes: YAML specials in manifests (alias bombs, duplicate keys,
 * non-UTF-8 and control characters, huge strings, deep nesting) through the whole pipeline with a
 * correctly signed commit, AdmissionReviews (parse + review against a deny-everything policy),
 * and configuration files (objects and YAML text). Each ends in a deny / coded error / valid
 * config within a time bound, never an allow, a crash or a hang.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from '../../src/config/defaults.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigError, InputError } from '../../src/errors.js';
import { parseAdmissionReview, reviewAdmission } from '../../src/gate/admission.js';
import { runGate } from '../../src/gate/pipeline.js';
import { loadTrustMaterial } from '../../src/gate/trust-material.js';
import type { GateDependencies } from '../../src/gate/types.js';
import { parsePolicyDocuments } from '../../src/policy/loader.js';
import { DENY_ALL_POLICY } from './fixtures.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';
import { memoryAudit } from '../helpers/memory-audit.js';

const LIMITS = { manifests: 1000, manifestNodes: 100_000, manifestDepth: 64, decisionTimeoutMs: 5_000 };

/** YAML that must be refused, with the code it must be refused with. */
const hostileYaml: fc.Arbitrary<{ yaml: string; codes: string[] }> = fc.oneof(
  // Alias bomb: each level repeats the previous `width` times; width^levels > manifestNodes.
  fc.record({ width: fc.integer({ min: 4, max: 12 }), levels: fc.integer({ min: 9, max: 14 }), flow: fc.boolean() }).map(({ width, levels, flow }) => {
    const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: bomb}', 'data:', '  l0: &l0 "lol"'];
    for (let i = 1; i <= levels; i++) {
      const refs = Array.from({ length: width }, () => `*l${i - 1}`);
      lines.push(flow ? `  l${i}: &l${i} [${refs.join(', ')}]` : `  l${i}: &l${i}\n${refs.map((r) => `    - ${r}`).join('\n')}`);
    }
    return { yaml: lines.join('\n'), codes: Math.pow(width, levels) > LIMITS.manifestNodes ? ['MANIFEST_TOO_LARGE', 'MANIFEST_TOO_DEEP'] : [] };
  }).filter((c) => c.codes.length > 0),
  // Duplicate keys, at the top or nested.
  fc.record({ depth: fc.integer({ min: 0, max: 5 }), key: fc.constantFrom('kind', 'name', 'image', 'a b', '"quoted"') }).map(({ depth, key }) => {
    const indent = '  '.repeat(depth + 1);
    const nest = Array.from({ length: depth }, (_, i) => `${'  '.repeat(i + 1)}n${i}:`).join('\n');
    return { yaml: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\ndata:\n${nest ? `${nest}\n` : ''}${indent}${key}: one\n${indent}${key}: two\n`, codes: ['MANIFEST_PARSE_ERROR'] };
  }),
  // Deep nesting, flow or block, past manifestDepth (and far past it: the parser's own stack).
  fc.record({ depth: fc.oneof(fc.integer({ min: 65, max: 500 }), fc.integer({ min: 5_000, max: 60_000 })), flow: fc.boolean() }).map(({ depth, flow }) => ({
    yaml: flow ? `apiVersion: v1\nkind: ConfigMap\ndata: ${'['.repeat(depth)}${']'.repeat(depth)}\n` : `apiVersion: v1\nkind: ConfigMap\ndata:\n${Array.from({ length: Math.min(depth, 3_000) }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n')} x\n`,
    codes: ['MANIFEST_TOO_DEEP', 'MANIFEST_PARSE_ERROR'],
  })),
  // Control characters and non-UTF-8 that decoded to something odd: js-yaml refuses non-printables.
  fc.constantFrom('\u0000', '\u0001', '\u0007', '\u001b', '\uFFFE', '\uD800').map((c) => ({ yaml: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "x"}\ndata: {k: ${c}v}\n`, codes: ['MANIFEST_PARSE_ERROR'] })),
  // Tags the core schema does not know (js-yaml extensions, Go types, a !!js function).
  fc.constantFrom('!!binary aGk=', '!!timestamp 2020-01-01', '!!js/function "function(){}"', '!!python/object:os.system x', '!<tag:yaml.org,2002:set> {a}', '!!omap [a: 1]').map((t) => ({
    yaml: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t}\ndata: {k: ${t}}\n`,
    codes: ['MANIFEST_PARSE_ERROR'],
  })),
  // Too many documents.
  fc.integer({ min: LIMITS.manifests + 1, max: LIMITS.manifests + 50 }).map((n) => ({ yaml: Array.from({ length: n }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}`).join('\n---\n'), codes: ['MANIFEST_TOO_MANY'] })),
);

describe('YAML specials and AdmissionReviews through the gate', () => {
  let example: { revision: string; commit: string; manifests: string };
  let deps: GateDependencies & { audit: ReturnType<typeof memoryAudit> };

  beforeAll(async () => {
    example = JSON.parse(await readFile(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8')) as typeof example;
    const config = parseConfig({ ...EMBEDDED_DEFAULTS, policies: { paths: [] } }, 'test', PACKAGE_ROOT);
    const verifier = await loadTrustMaterial(config.trust);
    const policies = { policies: parsePolicyDocuments(DENY_ALL_POLICY, 'deny-all.yaml'), exceptions: [], loadedAt: new Date(), generation: 1 };
    deps = {
      verifier: () => verifier,
      policies: () => policies,
      policyOptions: { modes: { defaultMode: 'enforce', overrides: {} }, bindings: {} },
      audit: memoryAudit(),
      limits: LIMITS,
    };
  });

  it(
    'hostile YAML with a correctly signed commit is refused with its specific code, in bounded time',
    async () => {
      await fc.assert(
        fc.asyncProperty(hostileYaml, async ({ yaml, codes }) => {
          const before = deps.audit.records.length;
          const start = performance.now();
          const d = await runGate({ revision: example.revision, commit: example.commit, manifests: yaml }, { identity: 'fuzz' }, deps);
          expect(performance.now() - start).toBeLessThan(5_000);
          expect(d.allowed).toBe(false);
          expect(d.outcome).toBe('bad_request');
          expect(codes, JSON.stringify(d.reasons).slice(0, 300)).toContain(d.reasons[0]!.code);
          expect(deps.audit.records.length).toBe(before + 1);
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it('a multi-megabyte scalar and a 100,000-line document parse within the time bound', async () => {
    for (const yaml of [`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {k: "${'x'.repeat(8 * 1024 * 1024)}"}\n`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: long}\ndata:\n${Array.from({ length: 99_990 }, (_, i) => `  k${i}: v`).join('\n')}\n`]) {
      const start = performance.now();
      const d = await runGate({ revision: example.revision, commit: example.commit, manifests: yaml }, { identity: 'fuzz' }, deps);
      expect(performance.now() - start).toBeLessThan(5_000);
      // Valid YAML within the limits: it reaches the policies, and the deny-all policy denies it.
      expect(d.allowed).toBe(false);
      expect(d.reasons[0]!.code).toMatch(/^POLICY_/);
    }
  });

  it(
    'generated AdmissionReviews: parse fails only with ADMISSION_REVIEW_INVALID, review never admits a CREATE/UPDATE under the deny-all policy',
    async () => {
      const any = fc.jsonValue({ maxDepth: 4 });
      /** Mostly the right shape, sometimes anything: enough reviews get past the parser. */
      const mostly = <T>(known: fc.Arbitrary<T>) => fc.oneof({ arbitrary: known, weight: 9 }, { arbitrary: any, weight: 1 });
      const request = fc.record(
        {
          uid: mostly(fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 40 }))),
          kind: mostly(fc.record({ group: fc.constantFrom('', 'apps'), version: fc.constant('v1'), kind: fc.constantFrom('Pod', 'Deployment', 'Secret') })),
          resource: mostly(fc.record({ group: fc.constant(''), version: fc.constant('v1'), resource: fc.constantFrom('pods', 'secrets') })),
          name: mostly(fc.string({ maxLength: 30 })),
          namespace: mostly(fc.constantFrom('apps', 'kube-system', '')),
          operation: mostly(fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'create')),
          userInfo: mostly(fc.record({ username: fc.string({ maxLength: 30 }), groups: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }) })),
          object: fc.oneof(
            fc.record({ apiVersion: fc.constantFrom('v1', 'apps/v1'), kind: fc.constantFrom('Pod', 'Deployment', 'ConfigMap'), metadata: fc.record({ name: fc.string({ maxLength: 20 }), namespace: fc.constantFrom('apps', 'x') }), spec: any }),
            fc.constant(null),
            any,
          ),
          oldObject: any,
          dryRun: mostly(fc.boolean()),
        },
        { requiredKeys: ['uid', 'kind', 'operation'] },
      );
      const review = fc.oneof(
        { arbitrary: fc.record({ apiVersion: mostly(fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1')), kind: mostly(fc.constant('AdmissionReview')), request: mostly(request) }), weight: 9 },
        { arbitrary: any, weight: 1 },
      );
      let reviewed = 0;
      await fc.assert(
        fc.asyncProperty(review, async (body) => {
          let request;
          try {
            request = parseAdmissionReview(body);
          } catch (err) {
            expect(err).toBeInstanceOf(InputError);
            expect((err as InputError).code).toBe('ADMISSION_REVIEW_INVALID');
            return;
          }
          reviewed++;
          const before = deps.audit.records.length;
          const start = performance.now();
          const res = await reviewAdmission(request, { identity: 'fuzz' }, deps, 2_000);
          expect(performance.now() - start).toBeLessThan(3_000);
          expect(res.response.uid).toBe(request.uid);
          expect(deps.audit.records.length).toBe(before + 1);
          if (request.operation === 'CREATE' || request.operation === 'UPDATE') {
            expect(res.response.allowed).toBe(false);
            expect(res.response.status?.reason).toMatch(/^(Forbidden|[A-Z][A-Z0-9_]+)$/);
            expect([400, 403]).toContain(res.response.status?.code);
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
      // Enough generated reviews get past the parser for the review property to mean something.
      console.log(`admission fuzz: ${reviewed} of ${FUZZ_RUNS} reviews parsed and reviewed`);
      expect(reviewed).toBeGreaterThan(FUZZ_RUNS / 20);
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('configuration files under generated input', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'syncgate-fuzz-config-'));
  });

  const validOrCoded = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toMatch(/^CONFIG_[A-Z_]+$/);
    }
  };

  it(
    'parseConfig on generated objects: a valid config or a coded ConfigError',
    () => {
      const any = fc.jsonValue({ maxDepth: 3 });
      const section = <T>(known: fc.Arbitrary<T>) => fc.oneof(known, any);
      const config = fc.oneof(
        any,
        fc.record(
          {
            listen: section(fc.constantFrom('127.0.0.1:8480', '[::1]:0', '0.0.0.0:99999', 'host', ':80', 'a:b')),
            log: section(fc.record({ level: fc.constantFrom('info', 'silent', 'loud') })),
            limits: section(fc.dictionary(fc.constantFrom('bodyBytes', 'manifests', 'manifestDepth', 'decisionTimeoutMs', 'bogus'), fc.oneof(fc.integer(), fc.double(), fc.string()))),
            auth: section(fc.record({ gateTokens: fc.array(fc.record({ name: fc.string(), tokenFile: fc.string(), tokenEnv: fc.string() }, { requiredKeys: [] }), { maxLength: 2 }) }, { requiredKeys: [] })),
            trust: section(fc.record({ keyrings: fc.array(fc.string({ maxLength: 20 }), { maxLength: 2 }), rules: fc.array(any, { maxLength: 2 }) }, { requiredKeys: [] })),
            policies: section(fc.record({ paths: fc.array(fc.string(), { maxLength: 2 }), defaultMode: fc.constantFrom('enforce', 'audit', 'off'), modes: any, bindings: any }, { requiredKeys: [] })),
            sealing: section(fc.record({ keyFiles: any, delivery: fc.constantFrom('apiserver', 'inline', 'email'), kubernetes: any }, { requiredKeys: [] })),
            admission: section(fc.record({ listen: fc.string(), certFile: fc.string(), keyFile: fc.string(), timeoutMs: fc.integer() }, { requiredKeys: [] })),
            tls: section(fc.record({ certFile: fc.string(), keyFile: fc.string(), clientCaFile: fc.string() }, { requiredKeys: [] })),
            audit: section(fc.record({ path: fc.string(), rotation: any, checkpoints: any }, { requiredKeys: [] })),
          },
          { requiredKeys: [] },
        ),
      );
      fc.assert(
        fc.property(config, (raw) => validOrCoded(() => parseConfig(raw, 'fuzz.yaml', dir))),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'loadConfig on generated YAML text (including alias bombs and duplicate keys): a valid config or a coded ConfigError, in bounded time',
    async () => {
      const lines = fc.array(
        fc.oneof(
          fc.constantFrom('listen: 127.0.0.1:0', 'log: {level: silent}', 'a: &a [1,2,3,4,5,6,7,8,9]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'policies: {bindings: {x: *c}}', 'policies: {paths: *c}', 'listen: x', 'listen: y', 'trust: {rules: *c}', '\t', '%YAML 1.1', '--- !!map', '? [a]', '"\\uD800": 1', 'limits: {bodyBytes: 1e400}'),
          fc.string({ maxLength: 60 }),
        ),
        { maxLength: 12 },
      );
      let n = 0;
      await fc.assert(
        fc.asyncProperty(lines, async (l) => {
          const file = path.join(dir, `c${n++ % 8}.yaml`);
          await writeFile(file, l.join('\n'));
          const start = performance.now();
          try {
            await loadConfig(file);
          } catch (err) {
            expect(err).toBeInstanceOf(ConfigError);
            expect((err as ConfigError).code).toMatch(/^CONFIG_[A-Z_]+$/);
          }
          expect(performance.now() - start).toBeLessThan(2_000);
        }),
        { numRuns: Math.min(FUZZ_RUNS, 3_000) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
