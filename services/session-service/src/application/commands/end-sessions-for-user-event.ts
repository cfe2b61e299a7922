import { requireDeps } from '@warden/bus';
import type { EndReason, Session } from '../../domain/session.js';
import { endAllExcept } from '../../domain/user-sessions.js';
import type { Clock, InboxEntry, MfaChallengeStore, SessionRepository } from '../ports.js';

/**
 * What user-service told us: the user's sessions must end (disabled, deleted, password changed),
 * or, when the user turned a second factor on (MFA_ENABLED), those that never passed one (AAL1).
 */
export interface EndSessionsForUserEvent {
  userId: string;
  reason: Extract<EndReason, 'USER_DISABLED' | 'USER_DELETED' | 'PASSWORD_CHANGED' | 'MFA_ENABLED'>;
  /** The session that made the change and stays (ChangePassword's, ConfirmTotp's). */
  exceptSessionId?: string;
  /**
   * When the change happened (the event's time). Given, sessions started after it (plus
   * {@link CLOCK_SKEW_ALLOWANCE_MS}) are left alone: an event applied late, after an outage, must
   * not end the session a user signed in to with the new password, or after being enabled again.
   */
  occurredAt?: Date;
  /** The event being applied: its effect happens once however often it is delivered. */
  inbox: InboxEntry;
  traceparent?: string;
}

/**
 * How much later than the event's time a session may have started and still be ended by it: the
 * two times come from different services' clocks, and erring towards ending is the safe side.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 30_000;

/** Internal: run by the user-event consumer, not exposed over gRPC, so no authorization. */
export class EndSessionsForUserEventHandler {
  constructor(
    private readonly deps: {
      sessions: SessionRepository;
      challenges: MfaChallengeStore;
      clock: Clock;
    },
  ) {
    requireDeps('EndSessionsForUserEventHandler', deps);
  }

  /** How many sessions ended; undefined when the event had been applied already. */
  async execute(cmd: EndSessionsForUserEvent): Promise<number | undefined> {
    const now = this.deps.clock.now();
    const changes = await this.deps.sessions.updateUserSessions(
      cmd.userId,
      (active) =>
        endAllExcept(
          concerned(startedBy(active, cmd.occurredAt), cmd.reason),
          cmd.exceptSessionId,
          cmd.reason,
          now,
        ),
      {
        inbox: cmd.inbox,
        // A deleted user's personal data goes with them (DESIGN 3b), not 30 days later.
        eraseUser: cmd.reason === 'USER_DELETED',
        ...(cmd.traceparent ? { traceparent: cmd.traceparent } : {}),
      },
    );
    // A challenge proves the old password (or an enabled user): it must not become a session now.
    // Idempotent, so it runs on a redelivery too. A second factor turned on leaves them: each
    // still needs CompleteMfa.
    if (cmd.reason !== 'MFA_ENABLED')
      await this.deps.challenges.dropForUser(cmd.userId, latestAffected(cmd.occurredAt));
    return changes?.length;
  }
}

/**
 * The sessions an event ends: MFA_ENABLED only those that never passed a second factor (AAL1;
 * sessions from before v1.1 read as AAL1), the other reasons every one.
 */
function concerned(active: readonly Session[], reason: EndSessionsForUserEvent['reason']) {
  return reason === 'MFA_ENABLED'
    ? active.filter((session) => session.assuranceLevel !== 'AAL2')
    : active;
}

function startedBy(active: readonly Session[], occurredAt: Date | undefined): readonly Session[] {
  const latest = latestAffected(occurredAt);
  return latest ? active.filter((session) => session.createTime <= latest) : active;
}

const latestAffected = (occurredAt: Date | undefined): Date | undefined =>
  occurredAt && new Date(occurredAt.getTime() + CLOCK_SKEW_ALLOWANCE_MS);
