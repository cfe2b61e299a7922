import type { Decision, ResourceRef } from '@warden/bus';

export interface DecisionCacheOptions {
  ttlMs: number;
  /** Beyond this many decisions the least recently used subjects' go (default 100k). */
  maxEntries?: number;
  /** Slots of the guard against a lookup racing a subject's clear (default 4096); tests shrink it. */
  guardSlots?: number;
  /** Monotonic milliseconds; tests pass a fake. */
  now?: () => number;
}

/** Within one subject's decisions. */
export const decisionKey = (permission: string, resource: ResourceRef): string =>
  `${permission}\u0000${resource.type}\u0000${resource.id ?? ''}\u0000${resource.ownerId ?? ''}`;

/** Lookups answered from a cache, and the rest. */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
}

/** Read before a lookup, handed back with its answer: tells whether a clear came in between. */
export interface CacheGeneration {
  readonly all: number;
  /** The subject-clear count when the lookup began. */
  readonly subject: number;
}

interface Entry {
  decision: Decision;
  expiresAt: number;
  /** The authz revision the decision reflects (0: unknown). */
  revision: number;
  /** The highest authz event revision heard when it was stored (see HeardRevisions). */
  heard: number;
}

/** Whether a decision of `revision`, stored when `heard` was heard, reflects `minRevision` too. */
export type Vouch = (revision: number, heard: number, minRevision: number) => boolean;

/** Slots of the subject-clear guard: fixed, whatever the number of subjects events name. */
const GUARD_SLOTS = 4_096;

/**
 * Decisions by subject, then (permission, resource), each kept for a short TTL; past
 * `maxEntries` the least recently used subjects go first.
 *
 * `clear()` forgets everything (a role's grants changed: anyone may be affected); `clearSubject()`
 * forgets one subject (it was given or lost a role). An answer fetched before either is never
 * stored after it, so a lookup racing a revocation cannot put the stale decision back. The guard
 * for subject clears is a fixed table of slots (subjects hashed into it) holding the count at the
 * slot's last clear: memory does not grow with the subjects events name, and a collision only
 * means one answer is not cached.
 *
 * Each decision remembers the authz revision it reflects: a lookup that must read at least a
 * revision (read-your-writes) is never answered by an older one.
 */
export class DecisionCache {
  /** Lookups answered from the cache, and the rest: for metrics. */
  readonly stats = { hits: 0, misses: 0 };
  /** Map order is recency: the first subject is the least recently used. */
  private readonly subjects = new Map<string, Map<string, Entry>>();
  private readonly clearedAt: Float64Array;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private allGeneration = 0;
  private subjectClears = 0;
  private entryCount = 0;

  constructor(private readonly options: DecisionCacheOptions) {
    this.maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1)
      throw new RangeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    this.clearedAt = new Float64Array(options.guardSlots ?? GUARD_SLOTS);
    this.now = options.now ?? (() => performance.now());
  }

  /** Read before a lookup; `set` takes it back with the answer. */
  generation(): CacheGeneration {
    return { all: this.allGeneration, subject: this.subjectClears };
  }

  get size(): number {
    return this.entryCount;
  }

  /**
   * The cached decision, unless it is missing, lapsed, or older than `minRevision` (and `vouch`,
   * the events heard since it was stored, cannot tell it is still current at that revision).
   */
  get(subjectId: string, key: string, minRevision = 0, vouch?: Vouch): Decision | undefined {
    const entries = this.subjects.get(subjectId);
    const entry = entries?.get(key);
    if (
      !entry ||
      (entry.revision < minRevision && !vouch?.(entry.revision, entry.heard, minRevision))
    ) {
      this.stats.misses++;
      return undefined;
    }
    if (entry.expiresAt <= this.now()) {
      this.stats.misses++;
      entries!.delete(key);
      this.entryCount--;
      if (entries!.size === 0) this.subjects.delete(subjectId);
      return undefined;
    }
    this.stats.hits++;
    this.subjects.delete(subjectId);
    this.subjects.set(subjectId, entries!);
    return entry.decision;
  }

  /**
   * Stores `decision`, which reflects authz `revision` (`heard`: the highest event revision heard
   * now), unless the subject (or everything) was cleared since `generation` was read.
   */
  set(
    subjectId: string,
    key: string,
    decision: Decision,
    generation: CacheGeneration,
    revision = 0,
    heard = 0,
  ): void {
    if (this.options.ttlMs <= 0) return;
    if (generation.all !== this.allGeneration) return;
    if (this.clearedAt[this.slotOf(subjectId)]! > generation.subject) return;
    let entries = this.subjects.get(subjectId);
    if (entries) this.subjects.delete(subjectId);
    else entries = new Map();
    this.subjects.set(subjectId, entries);
    if (!entries.has(key)) this.entryCount++;
    const held = entries.get(key);
    // A slower answer never replaces a newer one.
    if (held && held.revision > revision && held.expiresAt > this.now()) return;
    entries.set(key, { decision, expiresAt: this.now() + this.options.ttlMs, revision, heard });
    for (const [oldest, held] of this.subjects) {
      if (this.entryCount <= this.maxEntries || oldest === subjectId) break;
      this.subjects.delete(oldest);
      this.entryCount -= held.size;
    }
    // One subject alone past the bound (a stream of distinct resources): its oldest go.
    for (const oldestKey of entries.keys()) {
      if (this.entryCount <= this.maxEntries) break;
      entries.delete(oldestKey);
      this.entryCount--;
    }
  }

  clear(): void {
    this.allGeneration++;
    this.subjects.clear();
    this.entryCount = 0;
  }

  clearSubject(subjectId: string): void {
    this.clearedAt[this.slotOf(subjectId)] = ++this.subjectClears;
    this.entryCount -= this.subjects.get(subjectId)?.size ?? 0;
    this.subjects.delete(subjectId);
  }

  /** FNV-1a over the id's UTF-16 units, into the guard's slots. */
  private slotOf(subjectId: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < subjectId.length; i++)
      hash = Math.imul(hash ^ subjectId.charCodeAt(i), 0x01000193);
    return (hash >>> 0) % this.clearedAt.length;
  }
}
