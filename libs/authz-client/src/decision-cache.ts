import type { Decision, ResourceRef } from '@warden/bus';

export interface DecisionCacheOptions {
  ttlMs: number;
  /** Beyond this many entries the cache starts over rather than grow without bound. */
  maxEntries?: number;
  /** Monotonic milliseconds; tests pass a fake. */
  now?: () => number;
}

export const decisionKey = (subjectId: string, permission: string, resource: ResourceRef): string =>
  `${subjectId}\u0000${permission}\u0000${resource.type}\u0000${resource.id ?? ''}\u0000${resource.ownerId ?? ''}`;

/**
 * Decisions by (subject, permission, resource), each kept for a short TTL. `clear()` bumps a
 * generation: an answer fetched before the clear is never stored after it, so a lookup racing a
 * revocation cannot put the stale decision back.
 */
export class DecisionCache {
  private readonly entries = new Map<string, { decision: Decision; expiresAt: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private currentGeneration = 0;

  constructor(private readonly options: DecisionCacheOptions) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? (() => performance.now());
  }

  get generation(): number {
    return this.currentGeneration;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Decision | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.decision;
  }

  /** Stores `decision` unless the cache was cleared since `generation` was read. */
  set(key: string, decision: Decision, generation: number): void {
    if (generation !== this.currentGeneration || this.options.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { decision, expiresAt: this.now() + this.options.ttlMs });
  }

  clear(): void {
    this.currentGeneration++;
    this.entries.clear();
  }
}
