import { type Access, type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { tokenNotFound } from '../../errors.js';
import { hashToken, issueToken, looksLikeToken } from '../../domain/session-token.js';
import { assertUsable, end, isActiveAt, rotate, type Session } from '../../domain/session.js';
import { withLatestActivity } from '../latest-activity.js';
import type { LiveSessionDeps } from '../session-access.js';
import type { SessionWithToken } from '../codecs.js';
import type { SessionSettings } from '../settings.js';

export interface RefreshSession {
  token: string;
}

/** Told when a token replaced by a refresh comes back: someone else may hold a copy of it. */
export interface ReplayObserver {
  (session: Session): void;
}

/**
 * Rotates a session's token. A token already rotated out that is presented again is treated as
 * stolen: the session it belonged to ends (reason ADMIN, the service ending it), so neither the
 * thief nor the victim keeps a working token, and the caller sees SESSION_NOT_FOUND.
 */
export class RefreshSessionHandler implements UseCase<RefreshSession, SessionWithToken> {
  readonly name = 'RefreshSession';
  readonly access: Access<RefreshSession> = { kind: 'service' };

  constructor(
    private readonly deps: LiveSessionDeps & {
      settings: SessionSettings;
      onReplay: ReplayObserver;
    },
  ) {
    requireDeps('RefreshSessionHandler', deps);
  }

  async execute(cmd: RefreshSession, ctx: CallContext): Promise<SessionWithToken> {
    const { sessions, clock, cache, activity, settings } = this.deps;
    if (!looksLikeToken(cmd.token)) throw tokenNotFound();
    const oldHash = hashToken(cmd.token);
    const now = clock.now();
    const current = await sessions.findByTokenHash(oldHash);
    if (!current) {
      await this.endIfReplayed(oldHash, now, ctx);
      throw tokenNotFound();
    }
    const { token, hash } = issueToken(settings.tokenBytes);
    const seenHere = cache.lookup(oldHash, now.getTime())?.session;
    const saved = await sessions.update(
      current.id,
      (stored) => {
        // A concurrent refresh with the same token got there first.
        if (stored.tokenHash !== oldHash) throw tokenNotFound();
        const live = withLatestActivity(stored, seenHere, activity.peek(stored.id));
        assertUsable(live, now);
        return {
          session: rotate(live, hash, now, settings.idleTimeoutMs),
          event: 'refreshed',
          rotatedTokenHash: oldHash,
        };
      },
      { traceparent: ctx.traceparent },
    );
    if (!saved) throw tokenNotFound();
    cache.dropSession(saved.id);
    cache.put(saved, now.getTime());
    return { session: saved, token };
  }

  private async endIfReplayed(tokenHash: string, now: Date, ctx: CallContext): Promise<void> {
    const { sessions, cache, onReplay } = this.deps;
    const victim = await sessions.findByRotatedTokenHash(tokenHash);
    if (!victim || !isActiveAt(victim, now)) return;
    const ended = await sessions.update(
      victim.id,
      (stored) => {
        const after = end(stored, 'ADMIN', now);
        return after && { session: after, event: 'ended' };
      },
      { traceparent: ctx.traceparent },
    );
    cache.dropSession(victim.id);
    if (ended) onReplay(ended);
  }
}
