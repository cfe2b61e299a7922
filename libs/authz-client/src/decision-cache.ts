import type { Decision, ResourceRef } from '@warden/bus';

export interface DecisionCacheOptions {
  ttlMs: number;
  /** Beyond this many entries the cache starts over rather than grow without bound. */
  maxEntries?: number;
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
  readonly subject: number;
}

interface Entry {
  decision: Decision;
  expiresAt: number;
}

/**
 * Decisions by subject, then (permission, resource), each kept for a short TTL.
 *
 * `clear()` forgets everything (a role's grants changed: anyone may be affected); `clearSubject()`
 * forgets one subject (it was given or lost a role). Both bump a generation, and an answer fetched
 * before the bump is never stored after it, so a lookup racing a revocation cannot put the stale
 * decision back.
 */
export class DecisionCache {
  /** Lookups answered from the cache, and the rest: for metrics. */
  readonly stats = { hits: 0, misses: 0 };
  private readonly subjects = new Map<string, Map<string, Entry>>();
  /** Bumped per subject by clearSubject; reset (with everything else) by clear. */
  private readonly subjectGenerations = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private allGeneration = 0;
  private entryCount = 0;

  constructor(private readonly options: DecisionCacheOptions) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? (() => performance.now());
  }

  generation(subjectId: string): CacheGeneration {
    return { all: this.allGeneration, subject: this.subjectGenerations.get(subjectId) ?? 0 };
  }

  get size(): number {
    return this.entryCount;
  }

  get(subjectId: string, key: string): Decision | undefined {
    const entries = this.subjects.get(subjectId);
    const entry = entries?.get(key);
    if (!entry) {
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
    return entry.decision;
  }

  /** Stores `decision` unless the subject (or everything) was cleared since `generation` was read. */
  set(subjectId: string, key: string, decision: Decision, generation: CacheGeneration): void {
    if (this.options.ttlMs <= 0) return;
    const current = this.generation(subjectId);
    if (generation.all !== current.all || generation.subject !== current.subject) return;
    if (this.entryCount >= this.maxEntries) this.clear();
    let entries = this.subjects.get(subjectId);
    if (!entries) this.subjects.set(subjectId, (entries = new Map()));
    if (!entries.has(key)) this.entryCount++;
    entries.set(key, { decision, expiresAt: this.now() + this.options.ttlMs });
  }

  clear(): void {
    this.allGeneration++;
    this.subjects.clear();
    this.subjectGenerations.clear();
    this.entryCount = 0;
  }

  clearSubject(subjectId: string): void {
    // Bounded like the entries: past the limit, forgetting everything is the safe way to shrink.
    if (this.subjectGenerations.size >= this.maxEntries) return this.clear();
    this.subjectGenerations.set(subjectId, (this.subjectGenerations.get(subjectId) ?? 0) + 1);
    this.entryCount -= this.subjects.get(subjectId)?.size ?? 0;
    this.subjects.delete(subjectId);
  }
}
