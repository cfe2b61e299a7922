import { createHash } from 'node:crypto';
import type { CallContext, UserPrincipal } from '@warden/bus';
import { AppError, isAppError, isDependencyFailure, unauthenticated } from '@warden/errors';
import {
  followReplicaEvents,
  type FollowerOptions,
  type ReplicaFeed,
} from '@warden/events/replica-feed';
import { callUnary, createClient, type ClientKitOptions } from '@warden/grpc';
import type { Logger } from '@warden/logger';
import { sessionEventsV1, sessionv1 } from '@warden/proto';
import { PrincipalCache } from './principal-cache.js';

/** With `nc`, cached sessions are dropped on their ended/expired/refreshed events; without it nothing is cached. */
export interface SessionResolverOptions extends FollowerOptions {
  /** session-service, e.g. `127.0.0.1:50052`. */
  address: string;
  /** This service's key for session-service (`x-warden-service-key`); none with mTLS. */
  serviceKey?: string;
  logger: Logger;
  /** How long a validated token is trusted without asking again (default 5 s). */
  cacheTtlMs?: number;
  maxEntries?: number;
  deadlineMs?: number;
  tls?: ClientKitOptions['tls'];
  now?: () => number;
}

export interface SessionResolver {
  /** The user behind a session token; AppError UNAUTHENTICATED SESSION_NOT_FOUND/_ENDED/_EXPIRED when it is unusable. */
  resolve(token: string, ctx: CallContext): Promise<UserPrincipal>;
  close(): Promise<void>;
}

const MAX_TOKEN_LENGTH = 512;
const SESSION_EVENTS_SUBJECT = 'warden.session.v1.>';

/** The session whose tokens stopped working (ended, expired, or rotated by a refresh), if any. */
function revokedSessionId(
  subject: string,
  payload: Uint8Array,
  logger: Logger,
): string | undefined {
  try {
    switch (subject.slice(subject.lastIndexOf('.') + 1)) {
      case 'ended':
        return sessionEventsV1.SessionEnded.decode(payload).sessionId || undefined;
      case 'expired':
        return sessionEventsV1.SessionExpired.decode(payload).sessionId || undefined;
      case 'refreshed':
        return sessionEventsV1.SessionRefreshed.decode(payload).sessionId || undefined;
      default:
        return undefined;
    }
  } catch (error) {
    logger.warn({ err: error, subject }, 'undecodable session event ignored');
    return undefined;
  }
}

/** `resolveUser` for the gRPC server kit: ValidateSession over gRPC, cached and revoked by events. */
export function createSessionResolver(options: SessionResolverOptions): SessionResolver {
  const ttlMs = options.cacheTtlMs ?? 5_000;
  const now = options.now ?? Date.now;
  const client = createClient(sessionv1.SessionServiceClient, {
    address: options.address,
    ...(options.serviceKey ? { serviceKey: options.serviceKey } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const cache = new PrincipalCache(options.maxEntries ?? 10_000);
  const inFlight = new Map<string, Promise<UserPrincipal>>();
  // Bumped on every revocation: a validation that started before one must not refill the cache,
  // and later callers must not join it.
  let revocations = 0;
  let caching = options.nc !== undefined && !options.nc.isClosed();
  const feed: ReplicaFeed | undefined = options.nc
    ? followReplicaEvents(
        options.nc,
        [{ subject: SESSION_EVENTS_SUBJECT }],
        {
          onEvent: (event, subject) => {
            const sessionId = revokedSessionId(subject, event.payload, options.logger);
            if (!sessionId) return;
            revocations++;
            inFlight.clear();
            cache.dropSession(sessionId);
          },
          // Events may have been missed: nothing cached can be trusted.
          onGap: () => {
            revocations++;
            inFlight.clear();
            cache.clear();
          },
          onConnected: (isConnected) => {
            caching = isConnected;
          },
        },
        { logger: options.logger, ...(options.metrics ? { metrics: options.metrics } : {}) },
      )
    : undefined;

  async function validate(key: string, token: string, ctx: CallContext): Promise<UserPrincipal> {
    const startedAt = revocations;
    const { session } = await callUnary(
      client.validateSession,
      client,
      { token },
      ctx,
      options.deadlineMs ?? 2_000,
    ).catch((error: unknown) => {
      throw asResolveFailure(error);
    });
    if (!session) throw unauthenticated('SESSION_NOT_FOUND', 'session not found');
    const principal: UserPrincipal = {
      userId: session.userId,
      sessionId: session.id,
      // Step-up: `@aal2` grants apply to this caller only when its session had a second factor.
      assuranceLevel:
        session.assuranceLevel === sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2 ? 'AAL2' : 'AAL1',
      // Privileged changes (password, second factor) need a recent sign-in.
      ...(session.createTime ? { authenticatedAt: session.createTime } : {}),
    };
    if (caching && startedAt === revocations) {
      const sessionEnds = Math.min(
        session.idleExpireTime?.getTime() ?? 0,
        session.expireTime?.getTime() ?? 0,
      );
      const expiresAt = Math.min(now() + ttlMs, sessionEnds);
      if (expiresAt > now()) cache.set(key, principal, expiresAt);
    }
    return principal;
  }

  return {
    async resolve(token, ctx) {
      if (!token.startsWith('wst_') || token.length > MAX_TOKEN_LENGTH) {
        throw unauthenticated('SESSION_NOT_FOUND', 'session not found');
      }
      // Keyed by hash so raw tokens do not sit in this process's heap longer than the call.
      const key = createHash('sha256').update(token).digest('base64url');
      const cached = cache.get(key, now());
      if (cached) return cached;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = validate(key, token, ctx).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
    async close() {
      await feed?.stop();
      cache.clear();
      client.close();
    },
  };
}

/** What session-service may tell a caller about their own token; anything else is not theirs to see. */
const TOKEN_REASONS: ReadonlySet<string> = new Set([
  'SESSION_NOT_FOUND',
  'SESSION_ENDED',
  'SESSION_EXPIRED',
]);

function asResolveFailure(error: unknown): AppError {
  if (isAppError(error) && TOKEN_REASONS.has(error.reason)) return error;
  const kind = isAppError(error) ? error.kind : 'UNAVAILABLE';
  // Which address failed, and how, is for the log; the caller gets one generic answer.
  // session-service could not answer: the caller must fail, never pass as anyone.
  if (isDependencyFailure(kind)) {
    return new AppError(
      'UNAVAILABLE',
      'SESSION_SERVICE_UNAVAILABLE',
      'session service unavailable',
      { cause: error },
    );
  }
  // session-service refused the question itself (our key, our wiring): our bug, not the caller's.
  const detail = error instanceof Error ? error.message : String(error);
  return new AppError(
    'INTERNAL',
    'SESSION_CHECK_REJECTED',
    `session-service rejected ValidateSession: ${detail}`,
    { cause: error },
  );
}
