import type { AssuranceLevel, Decision, PermissionChecker, ResourceRef } from '@warden/bus';
import { AppError, isDependencyFailure } from '@warden/errors';
import {
  followReplicaEvents,
  type FollowerOptions,
  type ReplicaFeed,
} from '@warden/events/replica-feed';
import { callUnary, createClient, type ClientKitOptions } from '@warden/grpc';
import type { Logger } from '@warden/logger';
import { authzv1 } from '@warden/proto';
import { DecisionCache, decisionKey, type CacheStats } from './decision-cache.js';
import { eventRevision, HeardRevisions } from './heard-revisions.js';

/**
 * With `nc`, authz events keep the cache honest on every replica: `role_assigned` and
 * `role_revoked` drop their subject's decisions, any other `warden.authz.v1.>` event drops all.
 * A check with `minRevision` is answered from a decision only when it reflects that revision, or
 * every event since it was stored has been heard up to that revision; else authz is asked.
 */
export interface AuthzCheckerOptions extends FollowerOptions {
  /** authz-service's gRPC address, `host:port`. */
  address: string;
  /** This service's key for authz-service (`x-warden-service-key`); none with mTLS. */
  serviceKey?: string;
  logger: Logger;
  /** Decision lifetime, a safety net behind the events: default 5 s with `nc`, no caching without it. */
  cacheTtlMs?: number;
  /** Decisions kept at most (least recently used subjects go first); default 100k. */
  maxEntries?: number;
  /** mTLS to authz-service (production); off in dev and tests. */
  tls?: ClientKitOptions['tls'];
  /** Per-check deadline; default 2 s. */
  deadlineMs?: number;
  /** Monotonic clock for the cache, for tests. */
  now?: () => number;
}

export type AuthzChecker = PermissionChecker & {
  /** Decision cache lookups, for warden_cache_requests_total{cache="authz"}. */
  readonly cacheStats: CacheStats;
  close(): Promise<void>;
};

export const AUTHZ_EVENTS_SUBJECT = 'warden.authz.v1.>';
/** authz-service's refusal of a `min_revision` above anything it has written. */
const REVISION_NOT_REACHED = 'REVISION_NOT_REACHED';
/** Events that change what one subject (their ce-subject) may do, and nobody else. */
const SUBJECT_SCOPED_EVENTS: ReadonlySet<string> = new Set([
  'warden.authz.v1.role_assigned',
  'warden.authz.v1.role_revoked',
]);
const DEFAULT_TTL_MS = 5_000;
const ASSURANCE_TO_PROTO: Record<AssuranceLevel, authzv1.AssuranceLevel> = {
  AAL1: authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
  AAL2: authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2,
};

/**
 * The bus's PermissionChecker backed by authz-service's CheckPermission, with a decision cache.
 * A failed check throws (UNAVAILABLE when authz cannot answer) so it never becomes an allow.
 */
export function createAuthzChecker(options: AuthzCheckerOptions): AuthzChecker {
  const client = createClient(authzv1.AuthzServiceClient, {
    address: options.address,
    ...(options.serviceKey ? { serviceKey: options.serviceKey } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const ttlMs = options.cacheTtlMs ?? (options.nc ? DEFAULT_TTL_MS : 0);
  const cache = new DecisionCache({ ttlMs, maxEntries: options.maxEntries, now: options.now });
  const inFlight = new Map<string, Promise<Decision>>();
  const deadlineMs = options.deadlineMs ?? 2_000;
  // While NATS is down we cannot hear revocations, so nothing is cached meanwhile.
  let cacheTrusted = options.nc ? !options.nc.isClosed() : ttlMs > 0;
  let feed: ReplicaFeed | undefined;

  // The event revisions applied: a decision older than a check's min_revision may still answer
  // it when every event in between was heard after the decision was stored.
  const heard = new HeardRevisions();
  const vouch = heard.vouches.bind(heard);
  const drop = () => {
    cache.clear();
    inFlight.clear();
  };
  const startOver = () => {
    heard.reset();
    drop();
  };
  const dropSubject = (subjectId: string) => {
    cache.clearSubject(subjectId);
    const prefix = `${subjectId}\u0000`;
    for (const key of inFlight.keys()) if (key.startsWith(prefix)) inFlight.delete(key);
  };
  if (options.nc) {
    feed = followReplicaEvents(
      options.nc,
      [{ subject: AUTHZ_EVENTS_SUBJECT }],
      {
        onEvent: (event, subject) => {
          if (event.subjectId && SUBJECT_SCOPED_EVENTS.has(subject)) dropSubject(event.subjectId);
          else drop();
          // Applied above; one without a revision starts the count over.
          heard.heard(eventRevision(subject, event.payload));
        },
        onGap: startOver,
        onConnected: (connected) => {
          cacheTrusted = connected;
        },
      },
      { logger: options.logger, ...(options.metrics ? { metrics: options.metrics } : {}) },
    );
  } else if (options.cacheTtlMs) {
    options.logger.warn(
      { ttlMs },
      'authz checker without NATS: cached decisions live out their TTL after a revocation',
    );
  }

  /** authz's answer, and the revision it reflects. */
  const ask = async (
    subjectId: string,
    permission: string,
    resource: ResourceRef,
    assurance: AssuranceLevel | undefined,
    minRevision: number | undefined,
  ): Promise<{ decision: Decision; revision: number }> => {
    const request = {
      subjectId,
      permission,
      resource: { type: resource.type, id: resource.id ?? '', ownerId: resource.ownerId ?? '' },
      ...(assurance ? { assuranceLevel: ASSURANCE_TO_PROTO[assurance] } : {}),
      ...(minRevision ? { minRevision } : {}),
    };
    try {
      const response = await callUnary(
        client.checkPermission,
        client,
        request,
        undefined,
        deadlineMs,
      );
      const decision: Decision = response.stepUpRequired
        ? { allowed: false, reason: response.reason, stepUpRequired: true }
        : { allowed: response.allowed, reason: response.reason };
      return { decision, revision: response.revision };
    } catch (error) {
      throw asCheckFailure(error, permission);
    }
  };

  return {
    cacheStats: cache.stats,
    async check(subjectId, permission, resource, assurance, minRevision) {
      if (ttlMs <= 0)
        return (await ask(subjectId, permission, resource, assurance, minRevision)).decision;
      // The level is part of the question: an AAL1 denial must not answer an AAL2 check.
      const key = `${decisionKey(permission, resource)}\u0000${assurance ?? ''}`;
      // A decision older than the revision asked for is never the answer (read-your-writes).
      const cached = cacheTrusted ? cache.get(subjectId, key, minRevision, vouch) : undefined;
      if (cached) return cached;
      const flightKey = `${subjectId}\u0000${key}`;
      // A lookup in flight may predate the revision asked for: such a check asks on its own.
      const pending = minRevision ? undefined : inFlight.get(flightKey);
      if (pending) return pending;
      const generation = cache.generation();
      const lookup = ask(subjectId, permission, resource, assurance, minRevision).then(
        ({ decision, revision }) => {
          if (cacheTrusted)
            cache.set(subjectId, key, decision, generation, revision, heard.highest);
          return decision;
        },
      );
      if (cacheTrusted && !minRevision) {
        inFlight.set(flightKey, lookup);
        const forget = () => {
          if (inFlight.get(flightKey) === lookup) inFlight.delete(flightKey);
        };
        lookup.then(forget, forget);
      }
      return lookup;
    },
    async close() {
      await feed?.stop();
      drop();
      client.close();
    },
  };
}

function asCheckFailure(error: unknown, permission: string): AppError {
  // The caller's min_revision was never written: its mistake, told as authz told it.
  if (error instanceof AppError && error.reason === REVISION_NOT_REACHED)
    return new AppError('FAILED_PRECONDITION', REVISION_NOT_REACHED, error.message, {
      cause: error,
      metadata: error.metadata,
    });
  const kind = error instanceof AppError ? error.kind : 'UNAVAILABLE';
  // The caller learns that authorization could not be decided; which address failed, and how, is logged.
  // A dependency we could not get: the caller must fail, never allow or pretend to deny.
  if (isDependencyFailure(kind)) {
    return new AppError('UNAVAILABLE', 'AUTHZ_UNAVAILABLE', 'authorization service unavailable', {
      cause: error,
    });
  }
  // authz refused the question itself (bad key, malformed permission): our bug, not the caller's.
  const detail = error instanceof Error ? error.message : String(error);
  return new AppError(
    'INTERNAL',
    'AUTHZ_CHECK_REJECTED',
    `authz-service rejected the check of ${permission}: ${detail}`,
    { cause: error },
  );
}
