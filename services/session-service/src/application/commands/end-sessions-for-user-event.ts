import type { EndReason } from '../../domain/session.js';
import { endAllExcept } from '../../domain/user-sessions.js';
import type { Clock, InboxEntry, SessionRepository } from '../ports.js';
import { requireDeps } from '../require-deps.js';

/** What user-service told us: the user's sessions must end (disabled, deleted, password changed). */
export interface EndSessionsForUserEvent {
  userId: string;
  reason: Extract<EndReason, 'USER_DISABLED' | 'USER_DELETED' | 'PASSWORD_CHANGED'>;
  exceptSessionId?: string;
  /** The event being applied: its effect happens once however often it is delivered. */
  inbox: InboxEntry;
  traceparent?: string;
}

/** Internal: run by the user-event consumer, not exposed over gRPC, so no authorization. */
export class EndSessionsForUserEventHandler {
  constructor(private readonly deps: { sessions: SessionRepository; clock: Clock }) {
    requireDeps('EndSessionsForUserEventHandler', deps);
  }

  /** How many sessions ended; undefined when the event had been applied already. */
  async execute(cmd: EndSessionsForUserEvent): Promise<number | undefined> {
    const now = this.deps.clock.now();
    const changes = await this.deps.sessions.updateUserSessions(
      cmd.userId,
      (active) => endAllExcept(active, cmd.exceptSessionId, cmd.reason, now),
      { inbox: cmd.inbox, ...(cmd.traceparent ? { traceparent: cmd.traceparent } : {}) },
    );
    return changes?.length;
  }
}
