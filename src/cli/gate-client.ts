import { readFile } from 'node:fs/promises';
import { SyncgateError } from '../errors.js';

export interface GateClientOptions {
  url: string;
  tokenFile?: string;
  timeoutMs: number;
}

export interface GateAnswer {
  status: number;
  decision: {
    allowed?: boolean;
    decisionId?: string;
    reasons?: Array<{ code: string; message: string; location?: unknown }>;
    [field: string]: unknown;
  };
}

/** The gate URL as it may be printed: without any user:password part. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

/** POSTs to the gate's /v1/gate; an unreachable or slow gate is a coded error, never an allow. */
export async function askGate(body: unknown, options: GateClientOptions): Promise<GateAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.tokenFile) {
    const token = (await readFile(options.tokenFile, 'utf8').catch(() => {
      throw new SyncgateError('GATE_TOKEN_UNREADABLE', `cannot read the gate token file ${options.tokenFile}`);
    })).trim();
    headers.authorization = `Bearer ${token}`;
  }
  let res: Response;
  try {
    res = await fetch(new URL('/v1/gate', options.url), {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError') throw new SyncgateError('GATE_TIMEOUT', `the gate at ${shown(options.url)} did not answer within ${options.timeoutMs} ms`);
    throw new SyncgateError('GATE_UNREACHABLE', `cannot reach the gate at ${shown(options.url)}: ${(e.cause as Error | undefined)?.message ?? e.message}`);
  }
  let decision: GateAnswer['decision'];
  try {
    decision = (await res.json()) as GateAnswer['decision'];
  } catch {
    throw new SyncgateError('GATE_BAD_ANSWER', `the gate at ${shown(options.url)} answered HTTP ${res.status} without a JSON decision`);
  }
  return { status: res.status, decision };
}
