import {
  Bus,
  Idempotency,
  listAuditEvents,
  MemoryAuditLog,
  type AuditLog,
  type CallContext,
  type IdempotencyKeyring,
  type IdempotencyStore,
  type PermissionChecker,
  type UserPrincipal,
} from '@warden/bus';
import type { Logger } from '@warden/logger';
import { withAccessToken, type AccessTokenIssuer } from './application/access-tokens.js';
import { ActivityBuffer } from './application/activity-buffer.js';
import { ActivityFlusher } from './application/activity-flusher.js';
import { CompleteMfaHandler } from './application/commands/complete-mfa.js';
import { EndSessionHandler } from './application/commands/end-session.js';
import { EndUserSessionsHandler } from './application/commands/end-user-sessions.js';
import { RefreshSessionHandler } from './application/commands/refresh-session.js';
import { StartSessionHandler } from './application/commands/start-session.js';
import { ValidateSessionHandler } from './application/commands/validate-session.js';
import type {
  Clock,
  CredentialsVerifier,
  IdGenerator,
  MfaChallengeStore,
  SecondFactorVerifier,
  SessionRepository,
} from './application/ports.js';
import { GetJwksHandler } from './application/queries/get-jwks.js';
import {
  StreamQuota,
  WatchRevocationsHandler,
  type RevocationFeed,
} from './application/queries/watch-revocations.js';
import { GetSessionHandler } from './application/queries/get-session.js';
import { ListActiveSessionsHandler } from './application/queries/list-active-sessions.js';
import { WatchSessionsHandler } from './application/queries/watch-sessions.js';
import { SessionCache } from './application/session-cache.js';
import type { SessionSettings } from './application/settings.js';
import type { SessionUseCases } from './application/use-cases.js';
import { WatchHub, type WatchLimits } from './application/watch-hub.js';
import type { WatchedEvent } from './mapping.js';

export interface SessionAppDeps {
  sessions: SessionRepository;
  credentials: CredentialsVerifier;
  /** user-service's VerifySecondFactor, for CompleteMfa. */
  secondFactors: SecondFactorVerifier;
  /** Pending MFA challenges of sign-ins (step-up). */
  challenges: MfaChallengeStore;
  authorizer: PermissionChecker;
  idempotencyStore: IdempotencyStore;
  /** Keys of idempotency records (idempotency.secret); tests get a random one. */
  idempotencyKeyring?: IdempotencyKeyring;
  clock: Clock;
  ids: IdGenerator;
  settings: SessionSettings;
  cache: { maxEntries: number; ttlMs: number };
  watch: { allowedServices: readonly string[]; queueSize: number; limits?: WatchLimits };
  lastSeenFlushIntervalMs: number;
  logger: Logger;
  /** Signs access tokens (access_tokens.enabled); without it no access token is issued. */
  accessTokens?: AccessTokenIssuer;
  /** WatchRevocations' feed and who may read it. */
  revocations?: { feed: RevocationFeed; allowedServices: readonly string[]; limits: WatchLimits };
  /** The audit trail ListAuditEvents reads: PgAuditLog in production, an empty memory one by default. */
  auditLog?: AuditLog;
}

export interface SessionApp {
  bus: Bus;
  useCases: SessionUseCases<WatchedEvent>;
  cache: SessionCache;
  activity: ActivityBuffer;
  flusher: ActivityFlusher;
  hub: WatchHub<WatchedEvent>;
  /** The server kit's `resolveUser`: this service validates bearer tokens in-process. */
  resolveUser(token: string, ctx: CallContext): Promise<UserPrincipal>;
}

/** The composition root: the same function builds production (Prisma, gRPC) and test (memory, fakes) apps. */
export function createSessionApp(deps: SessionAppDeps): SessionApp {
  const { sessions, clock, settings, logger } = deps;
  const cache = new SessionCache(deps.cache.maxEntries, deps.cache.ttlMs);
  const activity = new ActivityBuffer();
  const hub = new WatchHub<WatchedEvent>(deps.watch.queueSize, deps.watch.limits);
  const idempotency = new Idempotency(deps.idempotencyStore, {
    now: () => clock.now(),
    ...(deps.idempotencyKeyring ? { keyring: deps.idempotencyKeyring } : {}),
  });
  const bus = new Bus({ authorizer: deps.authorizer, idempotency });
  const validateSession = new ValidateSessionHandler({
    sessions,
    clock,
    cache,
    activity,
    idleTimeoutMs: settings.idleTimeoutMs,
  });
  const useCases: SessionUseCases<WatchedEvent> = {
    startSession: withAccessToken(
      new StartSessionHandler({
        sessions,
        credentials: deps.credentials,
        clock,
        ids: deps.ids,
        cache,
        settings,
        idempotency,
        challenges: deps.challenges,
      }),
      deps.accessTokens,
      { sessions, clock },
    ),
    completeMfa: withAccessToken(
      new CompleteMfaHandler({
        sessions,
        challenges: deps.challenges,
        secondFactors: deps.secondFactors,
        clock,
        ids: deps.ids,
        cache,
        settings,
        idempotency,
      }),
      deps.accessTokens,
      { sessions, clock },
    ),
    validateSession,
    getSession: new GetSessionHandler({ sessions, clock, activity }),
    listActiveSessions: new ListActiveSessionsHandler({ sessions, clock }),
    refreshSession: withAccessToken(
      new RefreshSessionHandler({
        sessions,
        clock,
        cache,
        activity,
        settings,
        onReplay: (session) =>
          logger.warn(
            { sessionId: session.id, userId: session.userId },
            'rotated-out session token presented again: session ended',
          ),
      }),
      deps.accessTokens,
      { sessions, clock },
    ),
    endSession: new EndSessionHandler({ sessions, clock, cache }),
    endUserSessions: new EndUserSessionsHandler({ sessions, clock, cache }),
    watchSessions: new WatchSessionsHandler({ hub, allowedServices: deps.watch.allowedServices }),
    getJwks: new GetJwksHandler(deps.accessTokens),
    listAuditEvents: listAuditEvents(deps.auditLog ?? new MemoryAuditLog()),
    ...(deps.revocations
      ? {
          watchRevocations: new WatchRevocationsHandler({
            feed: deps.revocations.feed,
            allowedServices: deps.revocations.allowedServices,
            quota: new StreamQuota(deps.revocations.limits),
          }),
        }
      : {}),
  };
  const flusher = new ActivityFlusher(
    activity,
    sessions,
    deps.lastSeenFlushIntervalMs,
    (error, pending) =>
      logger.error({ err: error, pending }, 'writing session activity failed; will retry'),
  );
  return {
    bus,
    useCases,
    cache,
    activity,
    flusher,
    hub,
    async resolveUser(token) {
      const session = await validateSession.execute({ token });
      return {
        userId: session.userId,
        sessionId: session.id,
        assuranceLevel: session.assuranceLevel,
        authenticatedAt: session.createTime,
      };
    },
  };
}
