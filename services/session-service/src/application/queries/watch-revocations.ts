import { type Access, type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { watchStreamsExhausted } from '../../errors.js';
import { decodeCursor, type FeedPosition } from '../revocation-cursor.js';
import type { WatchLimits } from '../watch-hub.js';

export interface WatchRevocations {
  /** The cursor of the last item the caller applied; empty: from now on. */
  after: string;
}

export type RevocationKind =
  | 'SESSION_ENDED'
  | 'SESSION_EXPIRED'
  | 'USER_DISABLED'
  | 'USER_DELETED'
  | 'PASSWORD_CHANGED'
  | 'ROLES_CHANGED';

/** Something that should stop a token being honoured. */
export interface Revocation {
  kind: RevocationKind;
  /** The ended or expired session; for PASSWORD_CHANGED the session kept; else empty. */
  sessionId: string;
  userId: string;
  time: Date;
}

export interface PositionedRevocation {
  cursor: string;
  revocation: Revocation;
}

/** One caller's feed: read in order; `failed` rejects when it cannot go on (the caller resumes). */
export interface RevocationStream {
  /** The cursor of where the stream starts: resuming from it misses nothing that follows. */
  readonly start: string;
  next(signal: AbortSignal): Promise<PositionedRevocation | undefined>;
  readonly failed: Promise<never>;
  close(): void;
}

/** Opens feeds over the event streams; OUT_OF_RANGE CURSOR_EXPIRED when `after` is past retention. */
export interface RevocationFeed {
  open(after: FeedPosition | undefined): Promise<RevocationStream>;
}

/** Open streams per process and per caller, like WatchSessions'. */
export class StreamQuota {
  private open = 0;
  private readonly perCaller = new Map<string, number>();

  constructor(private readonly limits: WatchLimits) {}

  /** Takes a slot for `caller`; the returned function gives it back (once). */
  take(caller: string): () => void {
    const mine = this.perCaller.get(caller) ?? 0;
    if (mine >= this.limits.maxStreamsPerCaller)
      throw watchStreamsExhausted('caller', this.limits.maxStreamsPerCaller);
    if (this.open >= this.limits.maxStreams)
      throw watchStreamsExhausted('process', this.limits.maxStreams);
    this.open++;
    this.perCaller.set(caller, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const left = (this.perCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.perCaller.set(caller, left);
      else this.perCaller.delete(caller);
    };
  }
}

/**
 * Opens a named service's revocation feed after its cursor (from now on without one). Each item
 * carries the cursor to resume right after it, from any replica.
 */
export class WatchRevocationsHandler implements UseCase<WatchRevocations, RevocationStream> {
  readonly name = 'WatchRevocations';
  readonly readOnly = true;
  readonly access: Access<WatchRevocations>;

  constructor(
    private readonly deps: {
      feed: RevocationFeed;
      allowedServices: readonly string[];
      quota: StreamQuota;
    },
  ) {
    requireDeps('WatchRevocationsHandler', deps);
    this.access = { kind: 'services', names: deps.allowedServices };
  }

  async execute(query: WatchRevocations, ctx: CallContext): Promise<RevocationStream> {
    const after = query.after === '' ? undefined : decodeCursor(query.after);
    const release = this.deps.quota.take(ctx.service.name);
    try {
      const stream = await this.deps.feed.open(after);
      return {
        start: stream.start,
        next: (signal) => stream.next(signal),
        failed: stream.failed,
        close() {
          stream.close();
          release();
        },
      };
    } catch (error) {
      release();
      throw error;
    }
  }
}
