import type { Clock, SessionRepository } from '../ports.js';
import { requireDeps } from '../require-deps.js';

/**
 * Housekeeping: deletes sessions that ended (logged out, ended by an admin or an event, expired)
 * more than `retentionMs` ago, with their rotated tokens. Until then GetSession still shows how
 * a session ended, and a replayed rotated token is still recognised as theft.
 */
export class PurgeEndedSessionsHandler {
  constructor(
    private readonly deps: {
      sessions: SessionRepository;
      clock: Clock;
      retentionMs: number;
      batchSize: number;
    },
  ) {
    requireDeps('PurgeEndedSessionsHandler', deps);
  }

  /** Deletes in batches until none is left (bounded by `maxBatches`); returns how many. */
  async execute(maxBatches = 100): Promise<number> {
    const { sessions, clock, retentionMs, batchSize } = this.deps;
    const endedBefore = new Date(clock.now().getTime() - retentionMs);
    let total = 0;
    for (let batch = 0; batch < maxBatches; batch++) {
      const purged = await sessions.purgeEnded(endedBefore, batchSize);
      total += purged;
      if (purged < batchSize) break;
    }
    return total;
  }
}
