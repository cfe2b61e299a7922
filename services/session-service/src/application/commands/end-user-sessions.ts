import { type CallContext, type UseCase, requireDeps, permissionOn } from '@warden/bus';
import { endAllExcept } from '../../domain/user-sessions.js';
import { requireIds } from '../fields.js';
import type { Clock, SessionRepository } from '../ports.js';
import type { SessionCache } from '../session-cache.js';

export interface EndUserSessions {
  userId: string;
  /** A session to keep; empty for none. */
  exceptSessionId: string;
}

/** "Log me out everywhere (else)"; an unknown user simply has nothing to end. */
export class EndUserSessionsHandler implements UseCase<EndUserSessions, number> {
  readonly name = 'EndUserSessions';
  readonly access = permissionOn<EndUserSessions>('session.end', (cmd) => {
    validate(cmd);
    return { type: 'session', ownerId: cmd.userId };
  });

  constructor(
    private readonly deps: { sessions: SessionRepository; clock: Clock; cache: SessionCache },
  ) {
    requireDeps('EndUserSessionsHandler', deps);
  }

  async execute(cmd: EndUserSessions, ctx: CallContext): Promise<number> {
    const { sessions, clock, cache } = this.deps;
    validate(cmd);
    const now = clock.now();
    const reason = ctx.user?.userId === cmd.userId ? 'LOGOUT' : 'ADMIN';
    const changes = await sessions.updateUserSessions(
      cmd.userId,
      (active) => endAllExcept(active, cmd.exceptSessionId || undefined, reason, now),
      { traceparent: ctx.traceparent },
    );
    for (const change of changes ?? []) cache.dropSession(change.session.id);
    return changes?.length ?? 0;
  }
}

const validate = (cmd: EndUserSessions): void =>
  requireIds({
    user_id: { value: cmd.userId },
    except_session_id: { value: cmd.exceptSessionId, optional: true },
  });
