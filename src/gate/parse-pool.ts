import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError, SyncgateError, type ErrorLocation } from '../errors.js';
import { parseManifests, type Manifest, type ManifestLimits } from './manifests.js';

/** Below this many characters a hop to a worker costs more than it saves: parsed inline. */
const MIN_OFFLOAD_CHARS = 32 * 1024;

type Reply = { id: number; ok: true; manifests: Manifest[] } | { id: number; ok: false; input: boolean; error: { code: string; message: string; location?: ErrorLocation } };

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (m: Manifest[]) => void; reject: (e: Error) => void }>;
}

/**
 * Parses large manifest streams (YAML is most of a decision's CPU time: ~22 µs per KiB here) on
 * worker threads so that a second core takes part. A job goes to an idle worker; when every
 * worker is busy, the caller's thread parses it itself, so the pool never queues behind a slow
 * parse. Same results and the same coded errors as parseManifests; a worker that fails or exits
 * rejects its jobs (a deny) and is replaced on the next job.
 */
export class ParsePool {
  private readonly slots: Array<Slot | undefined>;
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly url: URL,
    size: number,
  ) {
    this.slots = Array.from({ length: size }, () => undefined);
  }

  /**
   * A pool of `size` workers, or undefined when size is 0 or the compiled worker is absent
   * (running from sources). `url` is the worker script (tests point it at the built one).
   */
  static create(size: number, url = new URL('./parse-worker.js', import.meta.url)): ParsePool | undefined {
    if (size < 1 || !existsSync(fileURLToPath(url))) return undefined;
    return new ParsePool(url, size);
  }

  parse(input: unknown, limits: ManifestLimits): Promise<Manifest[]> | Manifest[] {
    if (this.closed || typeof input !== 'string' || input.length < MIN_OFFLOAD_CHARS) return parseManifests(input, limits);
    const index = this.slots.findIndex((s) => s === undefined || s.pending.size === 0);
    if (index < 0) return parseManifests(input, limits);
    const slot = this.slots[index] ?? this.start(index);
    const id = this.nextId++;
    return new Promise<Manifest[]>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, text: input, limits: { manifests: limits.manifests, manifestNodes: limits.manifestNodes, manifestDepth: limits.manifestDepth } });
    });
  }

  private start(index: number): Slot {
    const worker = new Worker(this.url, { name: 'syncgate-parse' });
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    const fail = (err: Error) => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    worker.on('message', (reply: Reply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.manifests);
      else p.reject(reply.input ? new InputError(reply.error.code, reply.error.message, reply.error.location) : new SyncgateError(reply.error.code, reply.error.message, reply.error.location));
    });
    worker.on('error', (err) => fail(new SyncgateError('PARSE_WORKER_FAILED', `the manifest parser failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new SyncgateError('PARSE_WORKER_FAILED', `the manifest parser exited (code ${code})`)));
    this.slots[index] = slot;
    return slot;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
  }
}
