import { type Access, type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { sessionNotFound } from '../../errors.js';
import { asOf, end, type Session } from '../../domain/session.js';
import type { Clock, SessionRepository } from '../ports.js';
import { requireIds } from '../fields.js';
import { sessionPermission } from '../session-access.js';
import type { SessionCache } from '../session-cache.js';

export interface EndSession {
  sessionId: string;
}

/** Logout (the owner) or kill (anyone else allowed to); ending a stopped session changes nothing. */
export class EndSessionHandler implements UseCase<EndSession, Session> {
  readonly name = 'EndSession';
  readonly access: Access<EndSession>;

  constructor(
    private readonly deps: { sessions: SessionRepository; clock: Clock; cache: SessionCache },
  ) {
    requireDeps('EndSessionHandler', deps);
    this.access = sessionPermission<EndSession>(deps.sessions, 'session.end').access;
  }

  async execute(cmd: EndSession, ctx: CallContext): Promise<Session> {
    const { sessions, clock, cache } = this.deps;
    // The locking read in update() is the one that counts (the session may end meanwhile).
    requireIds({ session_id: { value: cmd.sessionId } });
    const now = clock.now();
    const saved = await sessions.update(
      cmd.sessionId,
      (stored) => {
        const ended = end(stored, ctx.user?.userId === stored.userId ? 'LOGOUT' : 'ADMIN', now);
        return ended && { session: ended, event: 'ended' };
      },
      { traceparent: ctx.traceparent },
    );
    if (!saved) throw sessionNotFound(cmd.sessionId);
    cache.dropSession(saved.id);
    return asOf(saved, now);
  }
}
