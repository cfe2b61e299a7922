import { expire } from '../../domain/session.js';
import type { Clock, SessionRepository } from '../ports.js';
import { requireDeps } from '../require-deps.js';

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

  /** Sweeps until no due session is left (bounded by `maxBatches`); returns how many expired. */
  async execute(maxBatches = 100): Promise<number> {
    const { sessions, clock, batchSize, idleGraceMs } = this.deps;
    let total = 0;
    for (let batch = 0; batch < maxBatches; batch++) {
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
      total += changes.length;
      if (changes.length < batchSize) break;
    }
    return total;
  }
}
