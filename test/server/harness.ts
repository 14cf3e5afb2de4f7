import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { startGate, type RunningGate } from '../../src/server/start.js';

export interface TestGate extends RunningGate {
  auditFile: string;
  /** The audit records written so far. */
  records: () => Promise<Array<Record<string, unknown>>>;
  post: (body: unknown, headers?: Record<string, string>) => Promise<{ status: number; json: Record<string, unknown> }>;
}

/** Starts the real gate on 127.0.0.1 with a free port and a fresh audit log. */
export async function startTestGate(input: ConfigInput = {}): Promise<TestGate> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-http-'));
  const auditFile = path.join(dir, 'audit.jsonl');
  const config = parseConfig({ listen: '127.0.0.1:0', audit: { path: auditFile }, log: { level: 'silent' }, ...input }, 'test', dir);
  const gate = await startGate(config, createLogger('silent'));
  await gate.ready.catch(() => {});
  return {
    ...gate,
    auditFile,
    records: async () =>
      (await readFile(auditFile, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    post: async (body, headers = {}) => {
      const res = await fetch(`${gate.url}/v1/gate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
  };
}
