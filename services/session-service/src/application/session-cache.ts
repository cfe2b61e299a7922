import type { Session } from '../domain/session.js';

interface Entry {
  session: Session;
  loadedAt: number;
}

export interface CacheLookup {
  session: Session;
  /** False once the entry is older than the TTL: reload it, keeping its activity. */
  fresh: boolean;
}

/**
 * Sessions by token hash, for ValidateSession without a database read: bounded (least recently
 * used out first), trusted for `ttlMs` after loading, and dropped on ended/expired/refreshed events.
 */
export class SessionCache {
  /** Lookups answered fresh from the cache, and the rest (absent or stale): for metrics. */
  readonly stats = { hits: 0, misses: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly hashBySession = new Map<string, string>();
  private trusted = true;
  /** Bumped by every drop: a load that began before one must not store what it read. */
  private generation = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`cache size must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  lookup(tokenHash: string, nowMs: number): CacheLookup | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) {
      this.stats.misses++;
      return undefined;
    }
    this.entries.delete(tokenHash);
    this.entries.set(tokenHash, entry);
    const fresh = nowMs - entry.loadedAt < this.ttlMs;
    if (fresh) this.stats.hits++;
    else this.stats.misses++;
    return { session: entry.session, fresh };
  }

  /** Stores a session read at `generation`; ignored if anything was dropped since. */
  put(session: Session, nowMs: number, generation = this.generation): void {
    if (!this.trusted || generation !== this.generation) return;
    const previousHash = this.hashBySession.get(session.id);
    if (previousHash !== undefined && previousHash !== session.tokenHash)
      this.entries.delete(previousHash);
    this.entries.delete(session.tokenHash);
    this.entries.set(session.tokenHash, { session, loadedAt: nowMs });
    this.hashBySession.set(session.id, session.tokenHash);
    if (this.entries.size > this.maxEntries) {
      const [oldestHash, oldest] = this.entries.entries().next().value!;
      this.entries.delete(oldestHash);
      if (this.hashBySession.get(oldest.session.id) === oldestHash)
        this.hashBySession.delete(oldest.session.id);
    }
  }

  /** Replaces a cached session's state (activity), keeping when it was loaded. */
  refresh(session: Session): void {
    const entry = this.entries.get(session.tokenHash);
    if (entry && entry.session.id === session.id) entry.session = session;
  }

  dropSession(sessionId: string): void {
    this.generation++;
    const hash = this.hashBySession.get(sessionId);
    if (hash === undefined) return;
    this.entries.delete(hash);
    this.hashBySession.delete(sessionId);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
    this.hashBySession.clear();
  }

  /** While events cannot be heard (NATS down), nothing is cached. */
  setTrusted(trusted: boolean): void {
    this.trusted = trusted;
    this.clear();
  }
}
