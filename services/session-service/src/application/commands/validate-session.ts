import { type Access, type UseCase, requireDeps } from '@warden/bus';
import { tokenNotFound } from '../../errors.js';
import { hashToken, looksLikeToken } from '../../domain/session-token.js';
import { assertUsable, touch, type Session } from '../../domain/session.js';
import { withLatestActivity } from '../latest-activity.js';
import type { LiveSessionDeps } from '../session-access.js';

export interface ValidateSession {
  token: string;
}

/**
 * The gateway's hot path: answers from the cache when it can, checks both expiries on every call,
 * and slides the idle expiry in memory; the activity buffer writes it back in batches.
 */
export class ValidateSessionHandler implements UseCase<ValidateSession, Session> {
  readonly name = 'ValidateSession';
  readonly readOnly = true;
  readonly access: Access<ValidateSession> = { kind: 'service' };
  private readonly loading = new Map<string, Promise<Session>>();

  constructor(private readonly deps: LiveSessionDeps & { idleTimeoutMs: number }) {
    requireDeps('ValidateSessionHandler', deps);
  }

  async execute(query: ValidateSession): Promise<Session> {
    const { clock, cache, activity, idleTimeoutMs } = this.deps;
    if (!looksLikeToken(query.token)) throw tokenNotFound();
    const tokenHash = hashToken(query.token);
    const now = clock.now();
    const cached = cache.lookup(tokenHash, now.getTime());
    let session = cached?.session;
    if (!session || !cached!.fresh || mayHaveSlidElsewhere(session, now))
      session = await this.load(tokenHash, session, now);
    assertUsable(session, now);
    const touched = touch(session, now, idleTimeoutMs);
    cache.refresh(touched);
    activity.record(touched.id, touched.lastSeenTime, touched.idleExpireTime);
    return touched;
  }

  /** One database read per token however many callers wait for it. */
  private load(tokenHash: string, known: Session | undefined, now: Date): Promise<Session> {
    let pending = this.loading.get(tokenHash);
    if (!pending) {
      pending = this.read(tokenHash, known, now).finally(() => this.loading.delete(tokenHash));
      this.loading.set(tokenHash, pending);
    }
    return pending;
  }

  private async read(tokenHash: string, known: Session | undefined, now: Date): Promise<Session> {
    const { sessions, cache, activity } = this.deps;
    const generation = cache.currentGeneration;
    const stored = await sessions.findByTokenHash(tokenHash);
    if (!stored) {
      if (known) cache.dropSession(known.id);
      throw tokenNotFound();
    }
    const session = withLatestActivity(stored, known, activity.peek(stored.id));
    cache.put(session, now.getTime(), generation);
    return session;
  }
}

/** Idle by our clock but not past the absolute expiry: another replica may have seen it since. */
const mayHaveSlidElsewhere = (session: Session, now: Date): boolean =>
  session.status === 'ACTIVE' && now >= session.idleExpireTime && now < session.expireTime;
