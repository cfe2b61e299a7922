import type { CallContext } from '@warden/bus';
import { issueToken, hashToken } from '../domain/session-token.js';
import { isActiveAt, rotate } from '../domain/session.js';
import { replayOutdated } from '../errors.js';
import type { SessionWithToken } from './codecs.js';
import type { Clock, SessionRepository } from './ports.js';
import type { SessionCache } from './session-cache.js';
import type { SessionSettings } from './settings.js';

/**
 * A sign-in's stored answer (a request_id replay of StartSession or CompleteMfa) is handed out
 * only while the current state would grant it: its session still active and the token still the
 * session's. A session that ended, expired or had its token refreshed is refused
 * (FAILED_PRECONDITION REPLAY_OUTDATED) rather than handing back a dead token, or one whose use
 * at RefreshSession would read as theft and end the session.
 */
export async function stillGranted(
  deps: { sessions: Pick<SessionRepository, 'findById'>; clock: Clock },
  answer: SessionWithToken,
): Promise<SessionWithToken> {
  const current = await deps.sessions.findById(answer.session.id);
  if (
    !current ||
    !isActiveAt(current, deps.clock.now()) ||
    current.tokenHash !== hashToken(answer.token)
  )
    throw replayOutdated();
  return { session: current, token: answer.token };
}

/**
 * After a crash between a sign-in's commit and its stored answer, the session the dead attempt
 * started (linked to its idempotency record's address), under a new token: the first one never
 * left the dead process. Undefined when there is none still active, and the request runs again.
 */
export async function recoverStartedSession(
  deps: {
    sessions: SessionRepository;
    clock: Clock;
    cache: SessionCache;
    settings: SessionSettings;
  },
  requestAddress: string,
  ctx: CallContext,
): Promise<SessionWithToken | undefined> {
  const { sessions, clock, cache, settings } = deps;
  const found = await sessions.findByStartRequest(requestAddress);
  const now = clock.now();
  if (!found || !isActiveAt(found, now)) return undefined;
  const { token, hash } = issueToken(settings.tokenBytes);
  const saved = await sessions.update(
    found.id,
    (stored) =>
      isActiveAt(stored, now)
        ? { session: rotate(stored, hash, now, settings.idleTimeoutMs) }
        : undefined,
    { traceparent: ctx.traceparent },
  );
  if (saved?.tokenHash !== hash) return undefined;
  cache.dropSession(saved.id);
  cache.put(saved, now.getTime());
  return { session: saved, token };
}
