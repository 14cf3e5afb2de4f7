import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catFile, commit, makeRepo, type TestRepo } from '../helpers/git.js';
import { generateKey, makeGpgHome, type GpgHome } from '../helpers/gpg.js';
import { startTestGate, type TestGate } from '../server/harness.js';

const NO_LATEST = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: no-latest
  annotations:
    policies.kyverno.io/severity: high
spec:
  rules:
    - name: no-latest-tag
      match:
        any:
          - kind: Deployment
      assert:
        all:
          - message: images must not use the latest tag
            check:
              spec:
                template:
                  spec:
                    ~.containers:
                      (ends_with(image, ':latest')): false
`;

const TEAM_LABEL_AUDIT = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: team-label
  annotations:
    syncgate.dev/mode: audit
spec:
  rules:
    - name: has-team
      assert:
        all:
          - message: every resource needs a team label
            check:
              (metadata.labels.team != null): true
`;

function deployment(name: string, image: string, namespace = 'shop', labels: Record<string, string> = { team: 'a' }) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: { template: { spec: { containers: [{ name: 'c', image }] } } },
  };
}

describe('POST /v1/gate: the policy stage', () => {
  let gpg: GpgHome;
  let repo: TestRepo;
  let gate: TestGate;
  let signed: { revision: string; commit: string };
  let policyDir: string;
  let exceptionsDir: string;

  beforeAll(async () => {
    gpg = await makeGpgHome();
    const key = await generateKey(gpg, { name: 'Alice', email: 'alice@example.invalid' });
    repo = await makeRepo({ gpg });
    const id = await commit(repo, { sign: key.fingerprint });
    signed = { revision: id, commit: (await catFile(repo, id)).toString('utf8') };

    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-policy-http-'));
    policyDir = path.join(dir, 'policies');
    exceptionsDir = path.join(dir, 'exceptions');
    await mkdir(policyDir);
    await mkdir(exceptionsDir);
    await writeFile(path.join(policyDir, 'no-latest.yaml'), NO_LATEST);
    await writeFile(path.join(policyDir, 'team-label.yaml'), TEAM_LABEL_AUDIT);
    await writeFile(
      path.join(exceptionsDir, 'legacy.yaml'),
      `apiVersion: syncgate.dev/v1alpha1
kind: PolicyException
metadata: {name: legacy-batch}
spec:
  policy: no-latest
  rules: [no-latest-tag]
  resources:
    - {kind: Deployment, namespace: legacy, name: batch-*}
  owner: platform@example.invalid
  reason: vendor image only published as latest; pinned by digest upstream next quarter
  expires: "2999-01-01"
---
apiVersion: syncgate.dev/v1alpha1
kind: PolicyException
metadata: {name: expired-one}
spec:
  policy: no-latest
  resources:
    - {kind: Deployment, namespace: old}
  owner: platform@example.invalid
  reason: expired long ago
  expires: "2020-01-01"
`,
    );
    const keyring = path.join(dir, 'alice.asc');
    await writeFile(keyring, key.publicKey);
    gate = await startTestGate({
      trust: { keyrings: [keyring], rules: [{ repositories: ['**'], openpgp: { fingerprints: [key.fingerprint] } }] },
      policies: { paths: [policyDir], exceptions: [exceptionsDir], watch: true },
    });
  });
  afterAll(async () => {
    await gate?.close();
    await repo?.cleanup();
    await gpg?.cleanup();
  });

  it('allows an application that passes every enforce-mode policy', async () => {
    const { status, json } = await gate.post({ ...signed, manifests: [deployment('web', 'registry.example/web:1.2.3')] });
    expect(status).toBe(200);
    expect(json.policy).toMatchObject({ policies: 2, counts: { pass: 2, fail: 0, error: 0 }, failures: [], auditFailures: [], exceptionsUsed: [] });
  });

  it('denies with every failure listed: policy, rule, resource and message', async () => {
    const { status, json } = await gate.post({
      ...signed,
      manifests: [deployment('ok', 'registry.example/ok:1'), deployment('web', 'registry.example/web:latest'), deployment('api', 'registry.example/api:latest')],
    });
    expect(status).toBe(403);
    const reasons = json.reasons as Array<{ code: string; message: string; location: { document: number } }>;
    expect(reasons.map((r) => [r.code, r.location.document])).toEqual([
      ['POLICY_FAILED', 1],
      ['POLICY_FAILED', 2],
    ]);
    expect(reasons[0]!.message).toMatch(/^no-latest\/no-latest-tag: Deployment shop\/web: .*latest/);
    const failures = (json.policy as { failures: unknown[] }).failures;
    expect(failures[0]).toMatchObject({
      policy: 'no-latest',
      rule: 'no-latest-tag',
      mode: 'enforce',
      status: 'fail',
      severity: 'high',
      resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', document: 1 },
    });
    const record = (await gate.records()).find((r) => r.decisionId === json.decisionId)!;
    expect((record.policy as { failures: unknown[] }).failures).toHaveLength(2);
  });

  it('records an audit-mode failure without denying', async () => {
    const { status, json } = await gate.post({ ...signed, manifests: [deployment('web', 'registry.example/web:1', 'shop', {})] });
    expect(status).toBe(200);
    expect((json.policy as { auditFailures: unknown[] }).auditFailures).toEqual([
      expect.objectContaining({ policy: 'team-label', rule: 'has-team', mode: 'audit', status: 'fail' }),
    ]);
  });

  it('honours an unexpired exception and names it in the decision', async () => {
    const { status, json } = await gate.post({ ...signed, manifests: [deployment('batch-nightly', 'vendor.example/batch:latest', 'legacy')] });
    expect(status).toBe(200);
    expect((json.policy as { exceptionsUsed: unknown[] }).exceptionsUsed).toEqual([
      expect.objectContaining({ policy: 'no-latest', exception: expect.objectContaining({ name: 'legacy-batch', owner: 'platform@example.invalid' }) }),
    ]);
    // The exception events are queued right after the decision record; wait for them to land.
    await waitFor(async () => (await gate.records()).some((r) => r.type === 'policy.exception.used' && r.decisionId === json.decisionId));
    const records = await gate.records();
    const decision = records.find((r) => r.decisionId === json.decisionId && r.type === 'decision')!;
    expect(decision.policy).toMatchObject({ exceptionsUsed: [{ exception: 'legacy-batch', policy: 'no-latest', rule: 'no-latest-tag', resource: 'apps/v1/Deployment/legacy/batch-nightly' }] });
    expect(records.filter((r) => r.type === 'policy.exception.used' && r.decisionId === json.decisionId)).toEqual([
      expect.objectContaining({ exception: 'legacy-batch', owner: 'platform@example.invalid', seq: (decision.seq as number) + 1 }),
    ]);
  });

  it('ignores an expired exception', async () => {
    const { status, json } = await gate.post({ ...signed, manifests: [deployment('batch-nightly', 'vendor.example/batch:latest', 'old')] });
    expect(status).toBe(403);
    expect((json.reasons as Array<{ code: string }>)[0]!.code).toBe('POLICY_FAILED');
  });

  it('reloads on change; a bad edit keeps the last good set and is recorded', async () => {
    const latest = { ...signed, manifests: [deployment('web', 'registry.example/web:latest')] };
    await writeFile(path.join(policyDir, 'no-latest.yaml'), NO_LATEST.replace('kind: ValidatingPolicy', 'kind: ValidatingPolicy\nbogus: field'));
    await waitFor(async () => (await gate.records()).some((r) => r.type === 'config.reload' && r.ok === false));
    expect((await gate.post(latest)).status).toBe(403);

    await writeFile(path.join(policyDir, 'no-latest.yaml'), NO_LATEST.replace("(ends_with(image, ':latest')): false", "(ends_with(image, ':never')): false"));
    await waitFor(async () => (await gate.records()).some((r) => r.type === 'config.reload' && r.ok === true));
    expect((await gate.post(latest)).status).toBe(200);
    const failed = (await gate.records()).find((r) => r.type === 'config.reload' && r.ok === false)!;
    expect(failed.error).toMatchObject({ code: 'POLICY_INVALID', location: expect.objectContaining({ file: path.join(policyDir, 'no-latest.yaml') }) });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}
