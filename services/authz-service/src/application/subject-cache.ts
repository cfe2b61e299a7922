import type { HeldRole } from '../domain/index.js';

/** Reads one subject's assignments (one indexed query). */
export type SubjectLoader = (subjectId: string) => Promise<readonly HeldRole[]>;

/** Lookups answered from memory, those that had to read, and subjects pushed out by newer ones. */
export interface SubjectCacheStats {
  hits: number;
  misses: number;
  evictions: number;
}

/**
 * Each subject's assignments for at most `maxSubjects` subjects, least recently used out first,
 * so memory follows the size of the cache and not the number of assignments. A miss reads the
 * subject once, however many checks wait for it; a subject held no role is cached too (empty).
 *
 * The guard against a read racing a change: `forget` drops the subject and disowns its read in
 * flight, so a read that started before a revocation (or an assignment) never installs what it
 * saw; only a read started afterwards does. `forgetAll` does the same for every subject. What is
 * in flight is bounded by the callers waiting, so the guard itself holds no per-subject history.
 */
export class SubjectCache {
  readonly stats: SubjectCacheStats = { hits: 0, misses: 0, evictions: 0 };
  /** Map order is recency: the first key is the least recently used. */
  private readonly entries = new Map<string, readonly HeldRole[]>();
  /** The read whose result may be installed, by subject. */
  private readonly loads = new Map<string, Promise<readonly HeldRole[]>>();
  /** Off while the events that keep entries current cannot be heard: reads then install nothing. */
  private accepting = true;

  constructor(
    readonly maxSubjects: number,
    private readonly load: SubjectLoader,
  ) {
    if (!Number.isInteger(maxSubjects) || maxSubjects < 1)
      throw new RangeError(`maxSubjects must be a positive integer, got ${maxSubjects}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Reads in flight whose result will be installed. */
  get loading(): number {
    return this.loads.size;
  }

  /** The cached assignments (now the most recently used), or undefined: then call `fetch`. */
  peek(subjectId: string): readonly HeldRole[] | undefined {
    const held = this.entries.get(subjectId);
    if (held === undefined) return undefined;
    this.stats.hits++;
    if (this.entries.size > 1) {
      this.entries.delete(subjectId);
      this.entries.set(subjectId, held);
    }
    return held;
  }

  /** Whether the subject is cached or being read (then an event about it must refresh it). */
  has(subjectId: string): boolean {
    return this.entries.has(subjectId) || this.loads.has(subjectId);
  }

  /** Reads the subject, joining a read in flight; installs the result unless forgotten meanwhile. */
  fetch(subjectId: string): Promise<readonly HeldRole[]> {
    const pending = this.loads.get(subjectId);
    if (pending) return pending;
    this.stats.misses++;
    const read: Promise<readonly HeldRole[]> = this.load(subjectId).then(
      (assignments) => {
        if (this.loads.get(subjectId) === read) {
          this.loads.delete(subjectId);
          if (this.accepting) this.install(subjectId, assignments);
        }
        return assignments;
      },
      (error: unknown) => {
        if (this.loads.get(subjectId) === read) this.loads.delete(subjectId);
        throw error;
      },
    );
    this.loads.set(subjectId, read);
    return read;
  }

  /** Drops the subject and disowns its read in flight; true when either was there. */
  forget(subjectId: string): boolean {
    const cached = this.entries.delete(subjectId);
    const loading = this.loads.delete(subjectId);
    return cached || loading;
  }

  /** Drops every subject and disowns every read in flight. */
  forgetAll(): void {
    this.entries.clear();
    this.loads.clear();
  }

  /**
   * Off: forgets everything and keeps nothing read from now on (every lookup reads), for as long
   * as nothing would tell this cache of a change; on: caches again.
   */
  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
    if (!accepting) this.forgetAll();
  }

  private install(subjectId: string, assignments: readonly HeldRole[]): void {
    this.entries.delete(subjectId);
    this.entries.set(subjectId, assignments);
    while (this.entries.size > this.maxSubjects) {
      const oldest = this.entries.keys().next().value!;
      this.entries.delete(oldest);
      this.stats.evictions++;
    }
  }
}
