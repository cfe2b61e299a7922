import type { AuthzEvent } from '../domain/index.js';
import { policyUnavailable, revisionNotReached } from '../errors.js';

/**
 * Revisions order authz writes in commit order. A write takes one revision per event it records
 * (one `UPDATE authz_revision ... RETURNING` in its transaction, holding the row to commit): its
 * n events get `last - n + 1 .. last`, and `last` is the write's revision. Every revision is thus
 * exactly one event, so a follower knows it has seen all up to R when it has seen each of them.
 */
export function stampRevisions(events: readonly AuthzEvent[], last: number): void {
  events.forEach((event, i) => {
    event.revision = last - events.length + 1 + i;
  });
}

/** The revision a committed write reached (its last event's); undefined when it recorded none. */
export function revisionOf(events: readonly AuthzEvent[]): number | undefined {
  let highest: number | undefined;
  for (const { revision } of events)
    if (revision !== undefined && (highest === undefined || revision > highest)) highest = revision;
  return highest;
}

/**
 * What a write returns as its revision: its events' last, or, when it changed nothing (and took
 * none), the current one.
 */
export async function revisionAfter(
  events: readonly AuthzEvent[] | undefined,
  database: { currentRevision(): Promise<number> },
): Promise<number> {
  return revisionOf(events ?? []) ?? (await database.currentRevision());
}

/** Default of `authz.min_revision_wait`: how long a read waits for the events before reading through. */
export const DEFAULT_MIN_REVISION_WAIT_MS = 150;

/** Revisions applied above a missing one before the missing one counts as lost (then: resync). */
const DEFAULT_MAX_AHEAD = 10_000;

/**
 * How new this process's policy state is: the highest revision R such that the changes of every
 * revision up to R have been applied. Revisions arrive out of order, twice, or not at all (a feed
 * gap): one above a missing revision waits in `ahead` and counts only once the gap below it fills,
 * so the watermark never overstates. A fresh read of everything (`baseline`) moves it to the
 * database's revision read before that read.
 */
export class RevisionWatermark {
  private current = 0;
  private readonly ahead = new Set<number>();
  private readonly waiters = new Set<{ revision: number; wake: () => void }>();

  constructor(private readonly maxAhead = DEFAULT_MAX_AHEAD) {}

  /** Every change up to this revision is reflected. */
  get revision(): number {
    return this.current;
  }

  /** Revisions applied out of order, waiting for one below them. */
  get pending(): number {
    return this.ahead.size;
  }

  /**
   * Records that `revision`'s change is applied. False when too many revisions wait above a
   * missing one: an event was lost without a gap being seen, and the caller must resync.
   */
  applied(revision: number): boolean {
    if (!Number.isSafeInteger(revision) || revision <= this.current) return true;
    this.ahead.add(revision);
    this.advance();
    return this.ahead.size <= this.maxAhead;
  }

  /** Everything was read afresh after the database was at `revision`: all up to it is reflected. */
  baseline(revision: number): void {
    if (revision > this.current) this.current = revision;
    for (const r of this.ahead) if (r <= this.current) this.ahead.delete(r);
    this.advance();
  }

  /** Resolves true as soon as the watermark is at `revision` or past it, false after `ms`. */
  reach(revision: number, ms: number): Promise<boolean> {
    if (revision <= this.current) return Promise.resolve(true);
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        revision,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, ms);
      timer.unref?.();
      this.waiters.add(waiter);
    });
  }

  private advance(): void {
    while (this.ahead.delete(this.current + 1)) this.current++;
    for (const waiter of this.waiters) if (waiter.revision <= this.current) waiter.wake();
  }
}

/** How a read that must reflect a revision is answered. */
export interface Settled {
  /** The revision the answer reflects (at least the one asked for). */
  readonly revision: number;
  /**
   * False: this process's caches (policy model, indexes) are at `revision` already; answer from
   * them. True: they are behind; read what the answer needs from the database, after `settle`
   * returned (it then reflects at least `revision`), and never from the caches.
   */
  readonly readThrough: boolean;
}

/**
 * Read-your-writes for every authz read: `settle(minRevision)` says whether the caches may answer
 * or the read must go through to Postgres. Without a minimum (or one the caches have reached) it
 * costs nothing; else it waits up to `waitMs` for the events to catch up, then reads the
 * database's revision: a minimum above it was never written (REVISION_NOT_REACHED).
 */
export class Freshness {
  /**
   * Reads that asked for a revision: `hits` answered from the caches (at once or after waiting),
   * `misses` read through (for warden_cache_requests_total{cache="authz_min_revision"}).
   */
  readonly stats = { hits: 0, misses: 0 };
  private cached: Settled = { revision: 0, readThrough: false };

  constructor(
    readonly watermark: RevisionWatermark,
    private readonly database: { currentRevision(): Promise<number> },
    private readonly waitMs: number = DEFAULT_MIN_REVISION_WAIT_MS,
  ) {}

  settle(minRevision?: number): Settled | Promise<Settled> {
    const current = this.watermark.revision;
    if (minRevision === undefined || minRevision <= current) {
      if (minRevision) this.stats.hits++;
      // One object per revision, not one per read: the hot path allocates nothing here.
      if (this.cached.revision !== current) this.cached = { revision: current, readThrough: false };
      return this.cached;
    }
    return this.catchUp(minRevision);
  }

  private async catchUp(minRevision: number): Promise<Settled> {
    if (await this.watermark.reach(minRevision, this.waitMs)) {
      this.stats.hits++;
      return { revision: this.watermark.revision, readThrough: false };
    }
    this.stats.misses++;
    let revision: number;
    try {
      revision = await this.database.currentRevision();
    } catch (error) {
      throw policyUnavailable(error);
    }
    if (revision < minRevision) throw revisionNotReached(minRevision, revision);
    return { revision, readThrough: true };
  }
}
