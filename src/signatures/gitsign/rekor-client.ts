/**
 * Looks up the Rekor entry of a default-mode (online) gitsign commit: gitsign uploaded a
 * hashedrekord over sha256(<commit id as hex text>), so the entry is found with Rekor's index
 * search by that hash (specs/gitsign.md §3.1), then read by UUID. The answer is only evidence:
 * everything in it is verified offline against the trusted root like an embedded entry.
 *
 * Bounded: a per-request timeout, a response size cap and a cap on the number of entries read.
 * Failures are GitsignError REKOR_LOOKUP_FAILED (transient: never cached) or REKOR_ENTRY_MISSING.
 */
import { GitsignError } from './errors.js';
import type { TlogEntryJson } from './tlog-entry.js';

export interface RekorLookup {
  /** Entries whose artifact hash is `sha256Hex`, as bundle tlogEntries (with their bodies). */
  entriesByHash(sha256Hex: string): Promise<TlogEntryJson[]>;
}

export interface RekorClientOptions {
  url: string;
  timeoutMs?: number;
  maxEntries?: number;
  maxResponseBytes?: number;
}

interface RekorLogEntry {
  body?: unknown;
  integratedTime?: unknown;
  logID?: unknown;
  logIndex?: unknown;
  verification?: {
    signedEntryTimestamp?: unknown;
    inclusionProof?: { checkpoint?: unknown; hashes?: unknown; logIndex?: unknown; rootHash?: unknown; treeSize?: unknown };
  };
}

function lookupFailed(message: string): GitsignError {
  return new GitsignError('REKOR_LOOKUP_FAILED', `Rekor lookup: ${message}`);
}

const HEX = /^[0-9a-f]+$/;
const UUID = /^[0-9a-f]{64}([0-9a-f]{16})?$/;

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Converts Rekor's v1 API answer for one entry to a bundle tlogEntry; REKOR_ENTRY_MALFORMED if incomplete. */
export function toTlogEntry(e: RekorLogEntry): TlogEntryJson {
  const bad = (what: string) => new GitsignError('REKOR_ENTRY_MALFORMED', `Rekor answer: ${what}`);
  const proof = e.verification?.inclusionProof;
  if (typeof e.body !== 'string' || typeof e.logID !== 'string' || !HEX.test(e.logID) || !isUint(e.logIndex) || !isUint(e.integratedTime)) throw bad('entry fields missing');
  if (typeof e.verification?.signedEntryTimestamp !== 'string') throw bad('no signed entry timestamp');
  if (!proof || typeof proof.checkpoint !== 'string' || typeof proof.rootHash !== 'string' || !HEX.test(proof.rootHash) || !isUint(proof.logIndex) || !isUint(proof.treeSize)) throw bad('no inclusion proof');
  if (!Array.isArray(proof.hashes) || !proof.hashes.every((h) => typeof h === 'string' && HEX.test(h))) throw bad('bad inclusion proof hashes');
  let kind: { kind?: unknown; apiVersion?: unknown };
  try {
    kind = JSON.parse(Buffer.from(e.body, 'base64').toString('utf8')) as typeof kind;
  } catch {
    throw bad('entry body is not JSON');
  }
  return {
    logIndex: String(e.logIndex),
    logId: { keyId: Buffer.from(e.logID, 'hex').toString('base64') },
    kindVersion: { kind: String(kind.kind), version: String(kind.apiVersion) },
    integratedTime: String(e.integratedTime),
    inclusionPromise: { signedEntryTimestamp: e.verification.signedEntryTimestamp },
    inclusionProof: {
      logIndex: String(proof.logIndex),
      rootHash: Buffer.from(proof.rootHash, 'hex').toString('base64'),
      treeSize: String(proof.treeSize),
      hashes: (proof.hashes as string[]).map((h) => Buffer.from(h, 'hex').toString('base64')),
      checkpoint: { envelope: proof.checkpoint },
    },
    canonicalizedBody: e.body,
  };
}

export class RekorClient implements RekorLookup {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(options: RekorClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new GitsignError('VERIFICATION_ERROR', 'the Rekor URL must be http(s)');
    this.base = url.href.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxEntries = options.maxEntries ?? 8;
    this.maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  }

  async entriesByHash(sha256Hex: string): Promise<TlogEntryJson[]> {
    if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw lookupFailed('bad hash');
    const uuids = await this.request('/api/v1/index/retrieve', { hash: `sha256:${sha256Hex}` });
    if (!Array.isArray(uuids) || !uuids.every((u) => typeof u === 'string' && UUID.test(u))) throw lookupFailed('unexpected index answer');
    if (uuids.length === 0) throw new GitsignError('REKOR_ENTRY_MISSING', 'Rekor has no entry for this commit');
    const entries: TlogEntryJson[] = [];
    for (const uuid of (uuids as string[]).slice(0, this.maxEntries)) {
      const answer = await this.request(`/api/v1/log/entries/${uuid}`);
      if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) throw lookupFailed('unexpected entry answer');
      const values = Object.values(answer as Record<string, RekorLogEntry>);
      if (values.length !== 1) throw lookupFailed('unexpected entry answer');
      entries.push(toTlogEntry(values[0] as RekorLogEntry));
    }
    return entries;
  }

  private async request(path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      throw lookupFailed(name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${this.timeoutMs} ms` : 'cannot reach the Rekor server');
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw lookupFailed(`HTTP ${res.status} for ${path.split('/').slice(0, 5).join('/')}`);
    }
    const text = await this.readCapped(res);
    try {
      return JSON.parse(text);
    } catch {
      throw lookupFailed('answer is not JSON');
    }
  }

  private async readCapped(res: Response): Promise<string> {
    const reader = res.body?.getReader();
    if (!reader) return '';
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > this.maxBytes) {
          await reader.cancel();
          throw lookupFailed(`answer larger than ${this.maxBytes} bytes`);
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof GitsignError) throw err;
      throw lookupFailed(`answer cut off (${(err as Error).name})`);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
