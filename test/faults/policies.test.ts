/**
 * The policies path cannot be read. Tests run as root here, so chmod 000 would not stop a read;
 * instead the configured path lies under a regular file (ENOTDIR for root too), or is a FIFO
 * (opening it blocks until a writer comes: a read that never ends). Every sync is then denied
 * with POLICIES_NOT_LOADED and /readyz says why; the gate recovers without a restart once the
 * path is readable (ENOTDIR case).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULTS, PACKAGE_ROOT } from '../../src/config/defaults.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startGate } from '../../src/server/start.js';
import { startTestGate, type TestGate } from '../server/harness.js';
import { startServe } from '../cli/run-cli.js';

const ALLOW_ALL = `apiVersion: json.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata:
  name: allow-all
spec:
  rules:
    - name: anything
      assert:
        all:
          - check:
              (\`true\`): true
`;

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('policies path unreadable', () => {
  let allowed: string;
  const trust = { ...EMBEDDED_DEFAULTS.trust, keyrings: [path.join(PACKAGE_ROOT, 'keys.example', 'dev-signing-key.pub.asc')] };
  const gates: TestGate[] = [];
  beforeAll(() => {
    allowed = readFileSync(path.join(PACKAGE_ROOT, 'examples', 'allowed-request.json'), 'utf8');
  });
  afterAll(async () => {
    for (const g of gates) await g.close();
  });

  const readyz = async (gate: TestGate) => {
    const res = await fetch(`${gate.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { reason?: string } };
  };

  it('a path under a regular file (ENOTDIR, unreadable for root too): deny POLICIES_NOT_LOADED; recovers when the directory appears', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-faults-policies-'));
    const blocker = path.join(dir, 'policies');
    await writeFile(blocker, 'a file where the policies directory should be\n');
    const gate = await startTestGate({ trust, policies: { paths: [path.join(blocker, 'library')] } });
    gates.push(gate);

    const ready = await readyz(gate);
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toMatch(/policies could not be loaded: POLICY_READ_ERROR|POLICY_.*ENOTDIR/);
    const denied = await gate.post(allowed);
    expect(denied.status).toBe(403);
    expect((denied.json.reasons as Array<{ code: string }>)[0]!.code).toBe('POLICIES_NOT_LOADED');

    // The fault clears: the file makes way for the directory with a policy in it.
    await rm(blocker);
    await mkdir(path.join(blocker, 'library'), { recursive: true });
    await writeFile(path.join(blocker, 'library', 'allow-all.yaml'), ALLOW_ALL);
    const recovered = await until(() => gate.post(allowed), (r) => r.status === 200);
    expect(recovered.status, JSON.stringify(recovered.json.reasons)).toBe(200);
    expect((await readyz(gate)).status).toBe(200);
    const reload = (await gate.records()).filter((r) => r.type === 'config.reload' && r.what === 'policies');
    expect(reload.at(-1)).toMatchObject({ ok: true, policies: ['allow-all'] });
  });

  it('syncgate serve (the built CLI) stays up, not ready, when the policies path is unreadable at start (it used to die of an unhandled rejection)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-faults-policies-cli-'));
    await writeFile(path.join(dir, 'blocker'), 'x\n');
    await writeFile(
      path.join(dir, 'config.yaml'),
      JSON.stringify({ listen: '127.0.0.1:0', trust: { ...trust, rules: EMBEDDED_DEFAULTS.trust!.rules }, policies: { paths: ['blocker/library'] }, audit: { path: 'audit.jsonl' }, log: { level: 'info' } }),
    );
    const { child, url } = await startServe(['--config', path.join(dir, 'config.yaml')]);
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      expect(child.exitCode).toBeNull();
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(503);
      const res = await fetch(`${url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: allowed });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { reasons: Array<{ code: string }> }).reasons[0]!.code).toBe('POLICIES_NOT_LOADED');
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('a FIFO as the policy file (reading it would block forever): refused, every sync denied POLICIES_NOT_LOADED, within the decision bound', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-faults-fifo-'));
    const fifo = path.join(dir, 'policies.yaml');
    execFileSync('mkfifo', [fifo]);
    // Not through the harness: it waits for readiness, which never comes here. The loader refuses
    // a path that is not a regular file or directory before any read, so nothing blocks.
    const config = parseConfig({ listen: '127.0.0.1:0', trust, policies: { paths: [fifo] }, limits: { decisionTimeoutMs: 2_000 }, audit: { path: path.join(dir, 'audit.jsonl') } }, 'test', dir);
    const running = await startGate(config, createLogger('silent'));
    const gate = {
      ...running,
      post: async (body: string) => {
        const res = await fetch(`${running.url}/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      },
      records: async () => readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
    } as unknown as TestGate;
    gates.push(gate);
    try {
      for (let i = 0; i < 3; i++) {
        const start = Date.now();
        const denied = await gate.post(allowed);
        expect(Date.now() - start).toBeLessThan(2_000);
        expect(denied.status).toBe(403);
        expect((denied.json.reasons as Array<{ code: string }>)[0]!.code).toBe('POLICIES_NOT_LOADED');
      }
      const ready = await readyz(gate);
      expect(ready.status).toBe(503);
      expect(ready.body.reason).toMatch(/^policies could not be loaded: POLICY_READ_ERROR: .*not a regular file or directory/);
      // The rest of the gate works: health, and decisions are still recorded.
      expect((await fetch(`${gate.url}/healthz`)).status).toBe(200);
      expect((await gate.records()).filter((r) => r.type === 'decision')).toHaveLength(3);
    } finally {
      // Had anything opened the FIFO for reading, a writer arriving and leaving releases it; with
      // no reader (the expected case) the non-blocking open fails with ENXIO.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENXIO');
      }
    }
  });
});
