/**
 * `syncgate policy scan` end to end (the built CLI): the corpus through the CLI (text lines as
 * upstream prints them, JSON results as expected.json), exit codes, load errors naming file,
 * document and path, and the JUnit / SARIF shapes checked structurally.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/policy/index.js';
import { REPO_ROOT, runCli } from './run-cli.js';

const corpus = path.resolve(REPO_ROOT, '..', 'shared', 'corpus', 'kyverno-json', 'scan');

interface CaseFile {
  policies: string[];
  payload: string;
  preprocessors?: string[];
  bindings?: string | null;
  requires?: string[];
}

function caseArgs(name: string): string[] {
  const dir = path.join(corpus, name);
  const spec = JSON.parse(readFileSync(path.join(dir, 'case.json'), 'utf8')) as CaseFile;
  return [
    'policy',
    'scan',
    ...spec.policies.flatMap((p) => ['--policy', path.join(dir, p)]),
    '--payload',
    path.join(dir, spec.payload),
    ...(spec.preprocessors ?? []).flatMap((e) => ['--pre-process', e]),
    ...(spec.bindings ? ['--bindings', path.join(dir, spec.bindings)] : []),
  ];
}

const statusLines = (text: string) => text.split('\n').filter((l) => /^- (PASSED|FAILED|ERROR)/.test(l));

describe.skipIf(!existsSync(corpus))('policy scan over the kyverno-json corpus', () => {
  const cases = existsSync(corpus)
    ? readdirSync(corpus).filter((c) => !(JSON.parse(readFileSync(path.join(corpus, c, 'case.json'), 'utf8')) as CaseFile).requires?.includes('cel'))
    : [];

  it('prints the same output as upstream, byte for byte, where no Go map syntax is involved', async () => {
    for (const c of ['pod-no-latest', 'bindings', 'escaped', 'wildcard', 'dockerfile']) {
      const r = await runCli(caseArgs(c));
      expect(r.stdout, c).toBe(readFileSync(path.join(corpus, c, 'upstream-out.txt'), 'utf8'));
      const failed = statusLines(r.stdout).some((l) => !l.startsWith('- PASSED'));
      expect(r.code, c).toBe(failed ? 1 : 0);
    }
  });

  it('prints upstream status lines for every case', async () => {
    for (const c of cases) {
      const r = await runCli(caseArgs(c));
      expect(statusLines(r.stdout), c).toEqual(statusLines(readFileSync(path.join(corpus, c, 'upstream-out.txt'), 'utf8')));
    }
  });

  it('--output json gives the normalized results of expected.json', async () => {
    for (const c of ['tf-plan', 'pod-no-latest', 'tf-ecs-cluster-1', 'scripted']) {
      const r = await runCli([...caseArgs(c), '--output', 'json']);
      const out = JSON.parse(r.stdout) as { results: { policy: string; rule: string; resource: string | number; status: string; message: string }[] };
      const expected = JSON.parse(readFileSync(path.join(corpus, c, 'expected.json'), 'utf8')) as { results: { policy: string; rule: string; resource: string | number; status: string }[] };
      const applicable = out.results.filter((x) => x.status !== 'skip').map(({ policy, rule, resource, status }) => ({ policy, rule, resource, status }));
      expect(applicable, c).toEqual(expected.results);
      for (const x of out.results) expect(typeof x.message).toBe('string');
    }
  });
});

describe('policy scan: exit codes, errors and formats', () => {
  let dir: string;
  const policy = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: no-latest
  annotations: {policies.kyverno.io/severity: high}
spec:
  rules:
    - name: pin-images
      match: {any: [{kind: Pod}]}
      identifier: metadata.name
      assert:
        all:
          - message: 'image of {{ metadata.name }} must be pinned & <safe>'
            check:
              spec:
                ~.containers:
                  (ends_with(image, ':latest')): false
    - name: numeric-replicas
      match: {any: [{kind: Deployment}]}
      assert:
        all:
          - check:
              spec: {replicas: 'two'}
`;
  const payload = `apiVersion: v1
kind: Pod
metadata: {name: good}
spec: {containers: [{name: a, image: 'nginx:1.27'}]}
---
# a comment before the second document
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec: {containers: [{name: a, image: 'nginx:latest'}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: typed}
spec: {replicas: 2}
`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'syncgate-scan-'));
    await writeFile(path.join(dir, 'policy.yaml'), policy);
    await writeFile(path.join(dir, 'payload.yaml'), payload);
    await writeFile(path.join(dir, 'good.yaml'), payload.split('---')[0] as string);
    await writeFile(path.join(dir, 'array.json'), JSON.stringify([{ kind: 'Pod', metadata: { name: 'j' }, spec: { containers: [{ image: 'x:latest' }] } }]));
  });

  const scan = (...args: string[]) => runCli(['policy', 'scan', '--policy', path.join(dir, 'policy.yaml'), ...args]);

  it('exit 0 when nothing fails', async () => {
    const r = await scan('--payload', path.join(dir, 'good.yaml'));
    expect(r.stdout).toContain('- PASSED (POLICY=no-latest, RULE=pin-images, ID=good)');
    expect(r.code).toBe(0);
  });

  it('exit 1 on a failure or an error; text shows both with their details', async () => {
    const r = await scan('--payload', path.join(dir, 'payload.yaml'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('- FAILED (POLICY=no-latest, RULE=pin-images, ID=bad)\n -> image of bad must be pinned & <safe> (CHECK=spec.rules[0].assert.all[0])\n  -> Invalid value: true: Expected value: false (PATH=spec.~.containers[0].(ends_with(image, \':latest\')))');
    expect(r.stdout).toMatch(/- ERROR: spec\.replicas: types are not comparable[^\n]*\(POLICY=no-latest, RULE=numeric-replicas\)/);
    expect(r.stdout).toContain('Running ( evaluating 3 resources against 1 policy ) ...');
  });

  it('json: one entry per (resource, rule), identifier or index, skip included', async () => {
    const r = await scan('--payload', path.join(dir, 'payload.yaml'), '--output', 'json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { results: { policy: string; rule: string; resource: string | number; status: string; message: string }[] };
    expect(out.results.map((x) => [x.rule, x.resource, x.status])).toEqual([
      ['pin-images', 'good', 'pass'],
      ['numeric-replicas', 0, 'skip'],
      ['pin-images', 'bad', 'fail'],
      ['numeric-replicas', 1, 'skip'],
      ['pin-images', 2, 'skip'],
      ['numeric-replicas', 2, 'error'],
    ]);
    expect(out.results[2]?.message).toBe('image of bad must be pinned & <safe> (CHECK=spec.rules[0].assert.all[0])');
  });

  it('a JSON payload with a top-level array is one resource per element', async () => {
    const r = await scan('--payload', path.join(dir, 'array.json'), '--output', 'json');
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ resource: 'j', status: 'fail' });
    expect(r.code).toBe(1);
  });

  it('--pre-process reshapes the payload', async () => {
    await writeFile(path.join(dir, 'wrapped.json'), JSON.stringify({ items: [{ kind: 'Pod', metadata: { name: 'w' }, spec: { containers: [] } }] }));
    const r = await scan('--payload', path.join(dir, 'wrapped.json'), '--pre-process', 'items', '--output', 'json');
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ resource: 'w', status: 'pass' });
    expect(r.code).toBe(0);
  });

  it('junit: well-formed, one testcase per result, counts that add up', async () => {
    const r = await scan('--payload', path.join(dir, 'payload.yaml'), '--output', 'junit');
    expect(r.code).toBe(1);
    const xml = r.stdout;
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(balancedXml(xml)).toBe(true);
    expect(xml).toMatch(/<testsuites name="syncgate policy scan" tests="6" failures="1" errors="1" skipped="3">/);
    expect(xml).toMatch(/<testsuite name="no-latest" tests="6" failures="1" errors="1" skipped="3">/);
    expect(xml.match(/<testcase /g)).toHaveLength(6);
    expect(xml).toContain('<failure message="image of bad must be pinned &amp; &lt;safe&gt; (CHECK=spec.rules[0].assert.all[0])" type="fail">');
    expect(xml).toMatch(/<error message="spec\.replicas: types are not comparable[^"]*" type="POLICY_TYPE_MISMATCH">/);
    expect(xml.match(/<skipped /g)).toHaveLength(3);
  });

  it('sarif: 2.1.0 shape, rules, results with severity levels and document lines', async () => {
    const r = await scan('--payload', path.join(dir, 'payload.yaml'), '--output', 'sarif');
    expect(r.code).toBe(1);
    const log = JSON.parse(r.stdout) as SarifLog;
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    expect(log.runs).toHaveLength(1);
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe('syncgate');
    const ids = run.tool.driver.rules.map((x) => x.id);
    expect(ids).toEqual(['no-latest/pin-images', 'no-latest/numeric-replicas']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(run.results).toHaveLength(2);
    for (const res of run.results) {
      expect(ids[res.ruleIndex]).toBe(res.ruleId);
      expect(['error', 'warning', 'note', 'none']).toContain(res.level);
      expect(res.message.text.length).toBeGreaterThan(0);
      expect(res.locations[0]!.physicalLocation.artifactLocation.uri).toBe(path.join(dir, 'payload.yaml'));
    }
    const [fail, error] = run.results;
    expect(fail).toMatchObject({ ruleId: 'no-latest/pin-images', level: 'error', kind: 'fail' });
    expect(fail!.locations[0]!.physicalLocation.region?.startLine).toBe(7); // "apiVersion" of the second document
    expect(error!.locations[0]!.physicalLocation.region?.startLine).toBe(12);
    expect(error!.message.text).toMatch(/^evaluation error: /);
  });

  it('exit 2 with file, document and path on a bad policy', async () => {
    await writeFile(path.join(dir, 'bad-policy.yaml'), `${policy}---\napiVersion: json.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata: {name: x}\nspec:\n  rules:\n    - name: r\n      matches: {any: [{a: 1}]}\n      assert: {all: [{check: {a: 1}}]}\n`);
    const r = await runCli(['policy', 'scan', '--policy', path.join(dir, 'bad-policy.yaml'), '--payload', path.join(dir, 'payload.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('POLICY_INVALID');
    expect(r.stderr).toContain(`${path.join(dir, 'bad-policy.yaml')} (document 1) at spec.rules[0]`);
    expect(r.stdout).toBe('');
  });

  it('exit 2 on an invalid JMESPath expression, naming the field', async () => {
    await writeFile(path.join(dir, 'bad-expr.yaml'), policy.replace("(ends_with(image, ':latest'))", '(ends_with(image,, x))'));
    const r = await runCli(['policy', 'scan', '--policy', path.join(dir, 'bad-expr.yaml'), '--payload', path.join(dir, 'payload.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-expr\.yaml \(document 0\) at spec\.rules\[0\]\.assert\.all\[0\]\.check\.spec\.~\.containers\.\(ends_with\(image,, x\)\): .*invalid JMESPath/);
  });

  it('exit 2 on a payload that is not YAML/JSON, naming the file', async () => {
    await writeFile(path.join(dir, 'broken.yaml'), 'kind: Pod\n  metadata: [\n');
    const r = await scan('--payload', path.join(dir, 'broken.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('POLICY_PAYLOAD_ERROR');
    expect(r.stderr).toContain(path.join(dir, 'broken.yaml'));
  });

  it('exit 2 on usage errors', async () => {
    expect((await runCli(['policy', 'scan', '--payload', path.join(dir, 'payload.yaml')])).code).toBe(2);
    expect((await scan()).code).toBe(2);
    const r = await scan('--payload', path.join(dir, 'payload.yaml'), '--output', 'xml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--output must be one of text, json, junit, sarif');
    expect((await scan('--payload', path.join(dir, 'missing.yaml'))).code).toBe(2);
    expect((await scan('--payload', path.join(dir, 'payload.yaml'), '--bindings', path.join(dir, 'payload.yaml'))).code).toBe(2);
    expect((await scan('--payload', path.join(dir, 'payload.yaml'), '--pre-process', 'nothing_here')).code).toBe(2);
  });

  it('the shipped library passes examples/app.yaml in every enforce-mode policy', async () => {
    const r = await runCli(['policy', 'scan', '--policy', path.join(REPO_ROOT, 'policies'), '--payload', path.join(REPO_ROOT, 'examples', 'app.yaml'), '--output', 'json']);
    const out = JSON.parse(r.stdout) as { results: { policy: string; status: string }[] };
    const library = await loadPolicies([path.join(REPO_ROOT, 'policies')]);
    const enforce = new Set(library.filter((p) => p.annotations['syncgate.dev/mode'] === 'enforce').map((p) => p.name));
    expect([...enforce].sort()).toEqual(['disallow-latest-tag', 'no-cluster-admin-bindings', 'no-host-access', 'no-plaintext-secrets', 'pss-baseline', 'require-labels', 'require-namespace', 'require-resources']);
    const failing = out.results.filter((x) => (x.status === 'fail' || x.status === 'error') && enforce.has(x.policy));
    expect(failing).toEqual([]);
    expect(out.results.filter((x) => x.status === 'pass').length).toBeGreaterThan(20);
  });
});

interface SarifLog {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string }[] } };
    results: { ruleId: string; ruleIndex: number; level: string; kind: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[];
  }[];
}

/** Tags open and close in order, attributes are quoted, text has no raw `<` or `&`. */
function balancedXml(xml: string): boolean {
  const body = xml.replace(/^<\?xml[^>]*\?>\n/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w:-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const text = body.slice(last, m.index);
    if (/[<]/.test(text) || /&(?!(amp|lt|gt|quot|apos);)/.test(text)) return false;
    last = tag.lastIndex;
    const [, close, name, , selfClose] = m;
    if (selfClose) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name as string);
  }
  return stack.length === 0 && body.slice(last).trim() === '';
}
