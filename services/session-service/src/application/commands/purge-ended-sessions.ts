import { requireDeps } from '@warden/bus';
import type { Clock, SessionRepository } from '../ports.js';

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

  /** Deletes one batch (the worker repeats it while batches are full); returns how many. */
  async execute(): Promise<number> {
    const { sessions, clock, retentionMs, batchSize } = this.deps;
    return sessions.purgeEnded(new Date(clock.now().getTime() - retentionMs), batchSize);
  }
}
