import type { EndSessionHandler } from './commands/end-session.js';
import type { EndUserSessionsHandler } from './commands/end-user-sessions.js';
import type { RefreshSessionHandler } from './commands/refresh-session.js';
import type { StartSessionHandler } from './commands/start-session.js';
import type { ValidateSessionHandler } from './commands/validate-session.js';
import type { GetSessionHandler } from './queries/get-session.js';
import type { ListActiveSessionsHandler } from './queries/list-active-sessions.js';
import type { WatchSessionsHandler } from './queries/watch-sessions.js';
import type { Watchable } from './watch-hub.js';

/** The use cases behind SessionService's RPCs, one each. */
export interface SessionUseCases<W extends Watchable> {
  startSession: StartSessionHandler;
  validateSession: ValidateSessionHandler;
  getSession: GetSessionHandler;
  listActiveSessions: ListActiveSessionsHandler;
  refreshSession: RefreshSessionHandler;
  endSession: EndSessionHandler;
  endUserSessions: EndUserSessionsHandler;
  watchSessions: WatchSessionsHandler<W>;
}
