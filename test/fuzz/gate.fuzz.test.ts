import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from '../../src/config/defaults.js';
import { parseConfig } from '../../src/config/load.js';
import { computeObjectId } from '../../src/git/object-id.js';
import { extractSignature, parseGitObject } from '../../src/git/object.js';
import { parseArmor } from '../../src/signatures/armor.js';
import { runGate } from '../../src/gate/pipeline.js';
import { loadTrustMaterial } from '../../src/gate/trust-material.js';
import type { GateDependencies } from '../../src/gate/types.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';
import { memoryAudit } from '../helpers/memory-audit.js';

// The real pipeline with the real verifier and the example trust policy, in process (so a long
// campaign is fast); the HTTP layer is fuzzed separately in test/server.
const example = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8')) as { revision: string; commit: string; manifests: string };

describe('the gate pipeline under generated input', () => {
  let deps: GateDependencies & { audit: ReturnType<typeof memoryAudit> };

  beforeAll(async () => {
    const config = parseConfig({ ...EMBEDDED_DEFAULTS, policies: { paths: [] } }, 'test', PACKAGE_ROOT);
    const verifier = await loadTrustMaterial(config.trust);
    const policies = { policies: [], exceptions: [], loadedAt: new Date(), generation: 1 };
    deps = {
      verifier: () => verifier,
      policies: () => policies,
      policyOptions: { modes: { defaultMode: 'enforce', overrides: {} }, bindings: {} },
      audit: memoryAudit(),
      limits: { ...config.limits, decisionTimeoutMs: 5_000 },
    };
  });

  const check = async (body: unknown) => {
    const before = deps.audit.records.length;
    const start = performance.now();
    const d = await runGate(body, { identity: 'fuzz' }, deps);
    expect(performance.now() - start).toBeLessThan(5_000);
    expect(d.allowed).toBe(false);
    expect(['deny', 'bad_request']).toContain(d.outcome);
    expect(d.reasons.length).toBeGreaterThan(0);
    for (const r of d.reasons) expect(r.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    // Recorded exactly once, before the answer.
    expect(deps.audit.records.length).toBe(before + 1);
    expect(deps.audit.records.at(-1)!.decisionId).toBe(d.decisionId);
  };

  it('the untouched example is allowed (so the properties below are meaningful)', async () => {
    const d = await runGate(example, { identity: 'fuzz' }, deps);
    expect(d.allowed).toBe(true);
  });

  it(
    'arbitrary JSON bodies are denied or rejected with a reason code',
    async () => {
      await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), check), { numRuns: FUZZ_RUNS });
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'requests of the right shape with generated values are never allowed',
    async () => {
      const request = fc.record(
        {
          revision: fc.oneof(fc.constant(example.revision), fc.stringMatching(/^[0-9a-f]{40}$/), fc.string()),
          commit: fc.oneof(fc.constant(example.commit), fc.string({ maxLength: 500 })),
          encoding: fc.constantFrom('utf8', 'base64', 'latin1'),
          manifests: fc.oneof(fc.constant(example.manifests), fc.string({ maxLength: 300 }), fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 5 })),
          verify: fc.constantFrom('head', 'tag', 'tagAndHead', 'none'),
          tag: fc.string({ maxLength: 200 }),
          repository: fc.oneof(fc.webUrl(), fc.string({ maxLength: 80 })),
        },
        { requiredKeys: ['revision', 'commit'] },
      );
      // Exclude the signed example itself (with any manifests or repository it may be allowed).
      const notExample = request.filter(
        (r) => !(r.revision === example.revision && r.commit === example.commit && (r.encoding ?? 'utf8') === 'utf8' && (r.verify ?? 'head') === 'head'),
      );
      await fc.assert(fc.asyncProperty(notExample, check), { numRuns: FUZZ_RUNS });
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'a change to the signed commit bytes (revision recomputed) is denied unless only the armor framing changed',
    async () => {
      const bytes = Buffer.from(example.commit);
      const mutation = fc.oneof(
        fc.record({ op: fc.constant('flip' as const), at: fc.nat(bytes.length - 1), bit: fc.integer({ min: 0, max: 7 }) }),
        fc.record({ op: fc.constant('insert' as const), at: fc.nat(bytes.length), data: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
        fc.record({ op: fc.constant('delete' as const), at: fc.nat(bytes.length - 1), len: fc.integer({ min: 1, max: 8 }) }),
      );
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          let out: Buffer;
          if (m.op === 'flip') {
            out = Buffer.from(bytes);
            out[m.at] = out[m.at]! ^ (1 << m.bit);
          } else if (m.op === 'insert') {
            out = Buffer.concat([bytes.subarray(0, m.at), Buffer.from(m.data), bytes.subarray(m.at)]);
          } else {
            out = Buffer.concat([bytes.subarray(0, m.at), bytes.subarray(m.at + m.len)]);
          }
          const body = { revision: computeObjectId('commit', out, 'sha1'), commit: out.toString('base64'), encoding: 'base64', manifests: example.manifests };
          const d = await runGate(body, { identity: 'fuzz' }, deps);
          if (!d.allowed) return;
          // Allowed: then the signed payload and the signature packet must be exactly the
          // original ones (e.g. the optional CRC-24 line was removed: RFC 4880 makes it optional).
          const before = extractSignature(parseGitObject(bytes, 'commit'));
          const after = extractSignature(parseGitObject(out, 'commit'));
          expect(after.payload.equals(before.payload)).toBe(true);
          expect(Buffer.from(parseArmor(after.signature, { allowTrailingEmptyLine: true }).data).equals(Buffer.from(parseArmor(before.signature, { allowTrailingEmptyLine: true }).data))).toBe(true);
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
