import { requireDeps } from '@warden/bus';
import { expire } from '../../domain/session.js';
import type { Clock, SessionRepository } from '../ports.js';

/**
 * The sweeper's step: records the expiry of sessions past it and emits SessionExpired. Idle
 * sessions are left `idleGraceMs` longer, the time a replica may hold activity it has not
 * written yet; validation refuses them from the expiry instant regardless.
 */
export class ExpireSessionsHandler {
  constructor(
    private readonly deps: {
      sessions: SessionRepository;
      clock: Clock;
      batchSize: number;
      idleGraceMs: number;
    },
  ) {
    requireDeps('ExpireSessionsHandler', deps);
  }

  /** Expires one batch of due sessions (the worker repeats it while batches are full); returns how many. */
  async execute(): Promise<number> {
    const { sessions, clock, batchSize, idleGraceMs } = this.deps;
    const now = clock.now();
    const changes = await sessions.expireDue(
      now,
      new Date(now.getTime() - idleGraceMs),
      batchSize,
      (session) => {
        const expired = expire(session, now);
        return expired && { session: expired, event: 'expired' };
      },
    );
    return changes.length;
  }
}
