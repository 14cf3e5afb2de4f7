/**
 * Reused buffers for /v1/gate request bodies. A body is hundreds of KiB; allocated afresh for
 * every request it is "external" memory to V8, and a body still in use across two young-generation
 * collections is promoted with it, so under load the old generation filled with dead bodies and
 * V8 started a full (marking) collection for external memory pressure several times a second:
 * pauses in the answers and ~1 ms of CPU per decision. Reused buffers live once in the old
 * generation and cost the collector nothing.
 *
 * A buffer may go back only when nothing reads it any more: the caller gives it back once the
 * decision's stages have settled (not merely answered: a stage can outlive a deadline), because
 * the EscapedYaml of the body is a view of it.
 */
const ALLOCATION_STEP = 64 * 1024;

export class BodyBufferPool {
  private readonly free: Buffer[] = [];
  private freeBytes = 0;

  /** @param maxFreeBytes buffers kept for reuse, in bytes at most; more are left to the collector. */
  constructor(readonly maxFreeBytes: number) {}

  /** A buffer of at least `size` bytes (contents undefined), reused when one is free. */
  take(size: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.length >= size && (best < 0 || b.length < this.free[best]!.length)) best = i;
    }
    if (best >= 0) {
      const b = this.free[best]!;
      this.free[best] = this.free[this.free.length - 1]!;
      this.free.pop();
      this.freeBytes -= b.length;
      return b;
    }
    // Rounded up, so bodies of similar size can share a buffer.
    return Buffer.allocUnsafeSlow(Math.max(ALLOCATION_STEP, Math.ceil(size / ALLOCATION_STEP) * ALLOCATION_STEP));
  }

  /** Gives a buffer from take() back. The caller must hold no view of it any more. */
  give(buffer: Buffer): void {
    if (this.freeBytes + buffer.length > this.maxFreeBytes) return;
    this.free.push(buffer);
    this.freeBytes += buffer.length;
  }

  stats(): { buffers: number; bytes: number } {
    return { buffers: this.free.length, bytes: this.freeBytes };
  }
}
