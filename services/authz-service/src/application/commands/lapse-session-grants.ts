import { roleRevoked, type RoleAssignment } from '../../domain/index.js';
import type { AuthzRepository, Clock, EventReceipt } from '../ports.js';

/** On `warden.session.v1.ended` or `.expired`, applied once per `inbox` entry (the consumed event). */
export interface LapseSessionGrants {
  sessionId: string;
  /** When the session ended or expired (the event's occur_time). */
  endTime: Date;
  inbox: EventReceipt;
  traceparent?: string;
}

/**
 * Grants bound to a session lapse with it: each goes with a RoleRevoked (SESSION_ENDED) dated by
 * the session's end. The session is recorded as ended in the same transaction, under its lock, so
 * an AssignRole binding to it that commits later is refused (SESSION_NOT_ACTIVE) and one that
 * committed earlier is removed here.
 */
export class LapseSessionGrantsHandler {
  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
  ) {}

  /** The grants removed; undefined when the inbox entry was seen before. */
  execute(command: LapseSessionGrants): Promise<RoleAssignment[] | undefined> {
    const { sessionId, endTime, inbox, traceparent } = command;
    return this.repository.endSession(
      inbox,
      { sessionId, endTime },
      this.clock.now(),
      (lapsed) => roleRevoked(lapsed, 'SESSION_ENDED', endTime),
      traceparent ? { traceparent } : {},
    );
  }
}

/**
 * Drops ended-session records older than the longest binding (authz.max_bound_grant_ttl): by then
 * no AssignRole that asked session-service before the end can still be committing.
 */
export class ForgetEndedSessions {
  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly keepMs: number,
    private readonly batchSize = 1_000,
  ) {}

  /** Returns how many records went. */
  async sweep(): Promise<number> {
    const before = new Date(this.clock.now().getTime() - this.keepMs);
    let total = 0;
    for (;;) {
      const removed = await this.repository.forgetEndedSessions(before, this.batchSize);
      total += removed;
      if (removed < this.batchSize) return total;
    }
  }
}
