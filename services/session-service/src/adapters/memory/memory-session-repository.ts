import type { SessionChange, SessionEventKind } from '../../domain/session-events.js';
import type { Session } from '../../domain/session.js';
import type {
  Activity,
  ListCursor,
  SessionRepository,
  UserSessionsWriteOptions,
  WriteOptions,
} from '../../application/ports.js';
import { mfaChallengeNotFound } from '../../errors.js';
import type { MemoryMfaChallengeStore } from './memory-mfa-challenge-store.js';

export interface RecordedEvent {
  kind: SessionEventKind;
  session: Session;
  traceparent?: string;
}

const newestFirst = (a: Session, b: Session): number =>
  b.createTime.getTime() - a.createTime.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The in-memory twin of the Prisma repository; `events` stands in for the outbox. */
export class MemorySessionRepository implements SessionRepository {
  readonly sessions = new Map<string, Session>();
  readonly rotatedTokens = new Map<string, string>();
  /** Idempotency record address -> the session that request started. */
  readonly startRequests = new Map<string, string>();
  readonly events: RecordedEvent[] = [];
  readonly processed = new Set<string>();
  /** Set to make the next activity write fail (flusher tests). */
  failNextActivityWrite = false;

  /** `challenges`: the store `consumeChallenge` spends from, as Postgres does in one transaction. */
  constructor(private readonly challenges?: MemoryMfaChallengeStore) {}

  async findById(id: string): Promise<Session | undefined> {
    return this.sessions.get(id);
  }

  async findByTokenHash(tokenHash: string): Promise<Session | undefined> {
    for (const session of this.sessions.values())
      if (session.tokenHash === tokenHash) return session;
    return undefined;
  }

  async findByRotatedTokenHash(tokenHash: string): Promise<Session | undefined> {
    const sessionId = this.rotatedTokens.get(tokenHash);
    return sessionId === undefined ? undefined : this.sessions.get(sessionId);
  }

  async findByStartRequest(requestAddress: string): Promise<Session | undefined> {
    const sessionId = this.startRequests.get(requestAddress);
    return sessionId === undefined ? undefined : this.sessions.get(sessionId);
  }

  async listActive(
    userId: string,
    now: Date,
    limit: number,
    after?: ListCursor,
  ): Promise<Session[]> {
    return [...this.sessions.values()]
      .filter(
        (s) =>
          s.userId === userId &&
          s.status === 'ACTIVE' &&
          s.expireTime > now &&
          s.idleExpireTime > now,
      )
      .filter(
        (s) =>
          !after ||
          s.createTime < after.createTime ||
          (s.createTime.getTime() === after.createTime.getTime() && s.id < after.id),
      )
      .sort(newestFirst)
      .slice(0, limit);
  }

  async update(
    id: string,
    change: (session: Session) => SessionChange | undefined,
    options?: WriteOptions,
  ): Promise<Session | undefined> {
    const stored = this.sessions.get(id);
    if (!stored) return undefined;
    const result = change(stored);
    if (!result) return stored;
    this.apply([result], options);
    return result.session;
  }

  async updateUserSessions(
    userId: string,
    decide: (active: Session[]) => SessionChange[],
    options?: UserSessionsWriteOptions,
  ): Promise<SessionChange[] | undefined> {
    const challenge = options?.consumeChallenge;
    if (challenge !== undefined && !this.challenges?.challenges.has(challenge))
      throw mfaChallengeNotFound();
    if (options?.inbox) {
      const key = `${options.inbox.consumer}\n${options.inbox.eventId}`;
      if (this.processed.has(key)) return undefined;
      this.processed.add(key);
    }
    const active = [...this.sessions.values()].filter(
      (s) => s.userId === userId && s.status === 'ACTIVE',
    );
    const changes = decide(active);
    if (challenge !== undefined) this.challenges?.challenges.delete(challenge);
    this.apply(changes, options);
    const started = changes.find((c) => c.event === 'started');
    if (options?.startRequest && started)
      this.startRequests.set(options.startRequest, started.session.id);
    if (options?.eraseUser) {
      for (const session of this.sessions.values())
        if (session.userId === userId)
          this.sessions.set(session.id, { ...session, client: { ipAddress: '', userAgent: '' } });
    }
    return changes;
  }

  async recordActivity(batch: readonly Activity[]): Promise<void> {
    if (this.failNextActivityWrite) {
      this.failNextActivityWrite = false;
      throw new Error('activity write failed (test)');
    }
    for (const activity of batch) {
      const stored = this.sessions.get(activity.sessionId);
      if (!stored || stored.status !== 'ACTIVE') continue;
      this.sessions.set(stored.id, {
        ...stored,
        lastSeenTime: max(stored.lastSeenTime, activity.lastSeenTime),
        idleExpireTime: max(stored.idleExpireTime, activity.idleExpireTime),
      });
    }
  }

  async expireDue(
    now: Date,
    idleCutoff: Date,
    limit: number,
    expire: (session: Session) => SessionChange | undefined,
  ): Promise<SessionChange[]> {
    const due = [...this.sessions.values()]
      .filter(
        (s) => s.status === 'ACTIVE' && (s.idleExpireTime <= idleCutoff || s.expireTime <= now),
      )
      .slice(0, limit);
    const changes = due.map(expire).filter((c): c is SessionChange => c !== undefined);
    this.apply(changes);
    return changes;
  }

  async purgeEnded(endedBefore: Date, limit: number): Promise<number> {
    const old = [...this.sessions.values()]
      .filter((s) => s.status !== 'ACTIVE' && s.endTime !== null && s.endTime < endedBefore)
      .sort((a, b) => a.endTime!.getTime() - b.endTime!.getTime())
      .slice(0, limit);
    const gone = new Set(old.map((s) => s.id));
    for (const id of gone) this.sessions.delete(id);
    for (const [tokenHash, sessionId] of this.rotatedTokens)
      if (gone.has(sessionId)) this.rotatedTokens.delete(tokenHash);
    for (const [request, sessionId] of this.startRequests)
      if (gone.has(sessionId)) this.startRequests.delete(request);
    return gone.size;
  }

  /** Test helper: the events of one kind, in order. */
  eventsOf(kind: SessionEventKind): Session[] {
    return this.events.filter((e) => e.kind === kind).map((e) => e.session);
  }

  private apply(changes: readonly SessionChange[], options?: WriteOptions): void {
    for (const change of changes) {
      this.sessions.set(change.session.id, change.session);
      if (change.rotatedTokenHash)
        this.rotatedTokens.set(change.rotatedTokenHash, change.session.id);
      if (change.event) {
        this.events.push({
          kind: change.event,
          session: change.session,
          ...(options?.traceparent ? { traceparent: options.traceparent } : {}),
        });
      }
    }
  }
}

const max = (a: Date, b: Date): Date => (a >= b ? a : b);
