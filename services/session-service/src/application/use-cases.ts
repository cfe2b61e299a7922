import type { AuditPage, ListAuditEventsInput, UseCase } from '@warden/bus';
import type { WithAccessToken } from './access-tokens.js';
import type { SessionWithToken, SignInResult } from './codecs.js';
import type { CompleteMfa } from './commands/complete-mfa.js';
import type { RefreshSession } from './commands/refresh-session.js';
import type { StartSession } from './commands/start-session.js';
import type { EndSessionHandler } from './commands/end-session.js';
import type { EndUserSessionsHandler } from './commands/end-user-sessions.js';
import type { ValidateSessionHandler } from './commands/validate-session.js';
import type { GetJwksHandler } from './queries/get-jwks.js';
import type { WatchRevocationsHandler } from './queries/watch-revocations.js';
import type { GetSessionHandler } from './queries/get-session.js';
import type { ListActiveSessionsHandler } from './queries/list-active-sessions.js';
import type { WatchSessionsHandler } from './queries/watch-sessions.js';
import type { Watchable } from './watch-hub.js';

/** The use cases behind SessionService's RPCs, one each. */
export interface SessionUseCases<W extends Watchable> {
  /** With access tokens on, the session's first access token comes too. */
  startSession: UseCase<StartSession, WithAccessToken<SignInResult>>;
  /** Step-up: the MFA challenge of a StartSession and a second factor -> an AAL2 session. */
  completeMfa: UseCase<CompleteMfa, WithAccessToken<SessionWithToken>>;
  validateSession: ValidateSessionHandler;
  getSession: GetSessionHandler;
  listActiveSessions: ListActiveSessionsHandler;
  refreshSession: UseCase<RefreshSession, WithAccessToken<SessionWithToken>>;
  endSession: EndSessionHandler;
  endUserSessions: EndUserSessionsHandler;
  watchSessions: WatchSessionsHandler<W>;
  getJwks: GetJwksHandler;
  /** Absent where no revocation feed is wired (in-memory test apps). */
  watchRevocations?: WatchRevocationsHandler;
  /** The shared ListAuditEvents of @warden/bus over this service's audit trail. */
  listAuditEvents: UseCase<ListAuditEventsInput, AuditPage>;
}
