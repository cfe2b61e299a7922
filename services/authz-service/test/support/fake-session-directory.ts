import type { SessionDirectory, SessionInfo } from '../../src/application/ports.js';
import { sessionsUnavailable } from '../../src/errors.js';

/** Session-service as AssignRole sees it, set by hand: sessions by id, or down. */
export class FakeSessionDirectory implements SessionDirectory {
  readonly sessions = new Map<string, SessionInfo>();
  /** Set to make every lookup fail as an outage would. */
  down = false;
  lookups = 0;

  add(sessionId: string, session: SessionInfo): this {
    this.sessions.set(sessionId, session);
    return this;
  }

  async findSession(sessionId: string): Promise<SessionInfo | undefined> {
    this.lookups++;
    if (this.down) throw sessionsUnavailable(new Error('connect ECONNREFUSED (fake)'));
    return this.sessions.get(sessionId);
  }
}
