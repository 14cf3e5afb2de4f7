/**
 * Content-addressed caches for the decision's hot path. A reconciler renders the same
 * application again and again, and a new commit usually changes a few of its documents: a YAML
 * document seen before (same bytes) need not be parsed, shape-checked or evaluated again.
 *
 * - ManifestCache: SHA-256 of one YAML document's text → the parsed, checked, deep-frozen object
 *   and its node count. Bounded by the bytes of YAML it stands for, the oldest unused since first out.
 * - PolicyResultCache: (policy set, frozen object) → that object's policy results, for results
 *   that read no clock and hold no error. Keyed by object identity (a WeakMap), so it lives as
 *   long as the ManifestCache keeps the object, and is dropped whole when the policy set changes.
 */
import type { PolicySet } from '../policy/policy-set.js';
import type { PolicyResult } from '../policy/types.js';

export interface CachedDocument {
  /** null: the document was empty (comments only, or `null`). */
  object: Readonly<Record<string, unknown>> | null;
  /** Nodes counted by the shape walk, charged to every request that uses the document. */
  nodes: number;
}

export interface ManifestCacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

/** Where one document of a remembered rendering lies in its body, and its ManifestCache key. */
export interface RenderedDocument {
  readonly from: number;
  readonly to: number;
  readonly key: string;
}

/** A remembered rendering: where its literal lies in its body (checked on use), and its documents. */
interface Rendering {
  readonly bodyBytes: number;
  readonly start: number;
  readonly end: number;
  readonly documents: readonly RenderedDocument[];
}

/**
 * Renderings remembered (request bodies), and their document records in all (~100 bytes each,
 * the key strings mostly shared with the cached documents'): outside the byte bound, so bounded here.
 */
const RENDERINGS = 64;
const RENDERED_DOCUMENTS = 20_000;
/**
 * Keys offered once that are remembered, so that a second sight can be told from a first: more
 * than one request may hold (limits.manifests, 10,000 by default), or a large application's own
 * first sights would push each other out before their second (~1.6 MiB when full).
 */
export const SEEN_ONCE = 16_384;

export class ManifestCache {
  // Second-chance order (CLOCK): a hit only marks its entry; the eviction scan moves marked
  // entries to the back instead of dropping them. Moving on every hit (delete + set) made the
  // Map rehash all the time: 150 moves per decision, 2-4 % of the gate's CPU.
  private readonly entries = new Map<string, { doc: CachedDocument; bytes: number; used: boolean }>();
  private readonly renderings = new Map<string, Rendering>();
  private renderedDocuments = 0;
  /** Keys (documents and bodies) offered once and not kept yet, oldest first. */
  private readonly seenOnce = new Set<string>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  /** @param maxBytes YAML text the cached documents stand for, at most; 0 caches nothing. */
  constructor(readonly maxBytes: number) {}

  get(digest: string): CachedDocument | undefined {
    const e = this.entries.get(digest);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    e.used = true;
    return e.doc;
  }

  /**
   * Keeps a document from its second sight on: one seen once (a document a single commit
   * changed, a revision stamped into every manifest) would only push out documents that are
   * rendered again and again, and fill the old generation with objects nothing asks for.
   */
  set(digest: string, doc: CachedDocument, bytes: number): void {
    if (bytes > this.maxBytes || this.entries.has(digest) || this.firstSight(digest)) return;
    deepFreeze(doc.object);
    this.entries.set(digest, { doc, bytes, used: false });
    this.bytes += bytes;
    // Map order is insertion order: the oldest first. A used entry gets a second chance at the back.
    for (const [key, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      if (key === digest) continue;
      this.entries.delete(key);
      if (old.used) {
        old.used = false;
        this.entries.set(key, old);
      } else {
        this.bytes -= old.bytes;
      }
    }
  }

  /**
   * The document ranges and keys of a request body seen before, by the SHA-256 of the whole body
   * (`requestDigest`): the same bytes split the same way, so a re-render needs neither the split
   * nor a hash per document. The documents themselves are still looked up (and may have left).
   */
  rendering(bodyDigest: string, literal: { bodyBytes: number; start: number; end: number }): readonly RenderedDocument[] | undefined {
    const r = this.maxBytes > 0 ? this.renderings.get(bodyDigest) : undefined;
    // the same digest must mean the same body: a caller passing another body's digest gets nothing
    if (!r || r.bodyBytes !== literal.bodyBytes || r.start !== literal.start || r.end !== literal.end) return undefined;
    return r.documents;
  }

  /** From the body's second sight on, as set() does for documents. */
  rememberRendering(bodyDigest: string, literal: { bodyBytes: number; start: number; end: number }, documents: readonly RenderedDocument[]): void {
    if (this.maxBytes <= 0 || documents.length > RENDERED_DOCUMENTS || this.renderings.has(bodyDigest) || this.firstSight(bodyDigest)) return;
    this.renderings.set(bodyDigest, Object.freeze({ bodyBytes: literal.bodyBytes, start: literal.start, end: literal.end, documents: Object.freeze(documents) }));
    this.renderedDocuments += documents.length;
    for (const [key, old] of this.renderings) {
      if (this.renderings.size <= RENDERINGS && this.renderedDocuments <= RENDERED_DOCUMENTS) break;
      this.renderings.delete(key);
      this.renderedDocuments -= old.documents.length;
    }
  }

  /** True the first time a key is offered (it is then noted); false when it was offered before. */
  private firstSight(key: string): boolean {
    if (this.seenOnce.delete(key)) return false;
    this.seenOnce.add(key);
    if (this.seenOnce.size > SEEN_ONCE) this.seenOnce.delete(this.seenOnce.values().next().value!);
    return true;
  }

  stats(): ManifestCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.size, bytes: this.bytes };
  }
}

/** Freezes every object and array reachable from `value` (shared ones once). */
function deepFreeze(value: unknown): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || Object.isFrozen(v)) continue;
    Object.freeze(v);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
  }
}

/** A cached object's results: passes counted, the rest with the position of the request that computed them. */
export interface CachedResults {
  readonly passes: number;
  readonly others: readonly PolicyResult[];
}

export class PolicyResultCache {
  private set: PolicySet | undefined;
  private results = new WeakMap<object, CachedResults>();

  /** Only objects the ManifestCache froze are worth keeping results for: anything else is seen once. */
  static cacheable(object: object): boolean {
    return Object.isFrozen(object);
  }

  get(set: PolicySet, object: object): CachedResults | undefined {
    return set === this.set ? this.results.get(object) : undefined;
  }

  put(set: PolicySet, object: object, results: CachedResults): void {
    if (set !== this.set) {
      this.set = set;
      this.results = new WeakMap();
    }
    this.results.set(object, Object.freeze({ passes: results.passes, others: Object.freeze(results.others.map((r) => Object.freeze(r))) }));
  }
}
