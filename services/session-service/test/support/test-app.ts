import { randomUUID } from 'node:crypto';
import {
  MemoryIdempotencyStore,
  TablePermissionChecker,
  type AuditLog,
  type CallContext,
  type IdempotencyStore,
  type UseCase,
} from '@warden/bus';
import type { AppError } from '@warden/errors';
import { createLogger } from '@warden/logger';
import { vi } from 'vitest';
import { FakeCredentialsVerifier } from './fake-credentials-verifier.js';
import { FixedClock } from './fixed-clock.js';
import { MemoryMfaChallengeStore } from '../../src/adapters/memory/memory-mfa-challenge-store.js';
import { MemorySessionRepository } from '../../src/adapters/memory/memory-session-repository.js';
import type { SessionSettings } from '../../src/application/settings.js';
import type { WatchLimits } from '../../src/application/watch-hub.js';
import { createSessionApp, type SessionApp } from '../../src/app.js';
import type { StartSession } from '../../src/application/commands/start-session.js';
import { aServiceContext, aStartSessionCommand, aUserId, someSettings, T0 } from './mothers.js';

export interface TestApp extends SessionApp {
  sessions: MemorySessionRepository;
  challenges: MemoryMfaChallengeStore;
  credentials: FakeCredentialsVerifier;
  permissions: TablePermissionChecker;
  clock: FixedClock;
}

export const silentLogger = createLogger({ service: 'session-service-test', level: 'silent' });

/** The real application over memory adapters, a fake user-service and a clock tests move. */
export function testApp(
  overrides: {
    settings?: Partial<SessionSettings>;
    allowedWatchers?: string[];
    queueSize?: number;
    watchLimits?: WatchLimits;
    cacheTtlMs?: number;
    /** Another idempotency store than a fresh memory one (a process that dies mid-request). */
    idempotencyStore?: IdempotencyStore;
    /** The trail ListAuditEvents reads; an empty memory one by default. */
    auditLog?: AuditLog;
    /** Another session repository over the app's challenges (one that fails mid-write). */
    sessions?: (challenges: MemoryMfaChallengeStore) => MemorySessionRepository;
  } = {},
): TestApp {
  const challenges = new MemoryMfaChallengeStore();
  const sessions = overrides.sessions?.(challenges) ?? new MemorySessionRepository(challenges);
  const credentials = new FakeCredentialsVerifier();
  const permissions = new TablePermissionChecker();
  const clock = new FixedClock(T0);
  const app = createSessionApp({
    sessions,
    credentials,
    secondFactors: credentials.secondFactors,
    challenges,
    authorizer: permissions,
    idempotencyStore: overrides.idempotencyStore ?? new MemoryIdempotencyStore(),
    clock,
    ids: { newId: () => randomUUID() },
    settings: someSettings(overrides.settings),
    cache: { maxEntries: 1_000, ttlMs: overrides.cacheTtlMs ?? 10_000 },
    watch: {
      allowedServices: overrides.allowedWatchers ?? ['gateway'],
      queueSize: overrides.queueSize ?? 16,
      ...(overrides.watchLimits ? { limits: overrides.watchLimits } : {}),
    },
    lastSeenFlushIntervalMs: 1_000,
    logger: silentLogger,
    ...(overrides.auditLog ? { auditLog: overrides.auditLog } : {}),
  });
  return { ...app, sessions, challenges, credentials, permissions, clock };
}

/** Gives ada (the person of aStartSessionCommand) an account in `app`; returns her user id. */
export function withAda(app: TestApp = testApp()): { app: TestApp; userId: string } {
  const userId = aUserId();
  app.credentials.addUser('ada@example.com', 'correct horse battery staple', userId);
  return { app, userId };
}

/** Ada signs in through the gateway (with a password alone: a session, never a challenge). */
export async function signIn(
  app: TestApp,
  overrides: Partial<StartSession> = {},
  ctx: CallContext = aServiceContext('gateway'),
) {
  const started = await startSession(app, overrides, ctx);
  if ('challenge' in started) throw new Error('expected a session, StartSession gave a challenge');
  return started;
}

/** A StartSession answer that must be a session (a password-only sign-in), narrowed to one. */
export function sessionOf<R extends object>(started: R): Exclude<R, { challenge: unknown }> {
  if ('challenge' in started) throw new Error('expected a session, StartSession gave a challenge');
  return started as Exclude<R, { challenge: unknown }>;
}

/** StartSession as it answers: a session, or an MFA challenge for a user with MFA on. */
export const startSession = (
  app: TestApp,
  overrides: Partial<StartSession> = {},
  ctx: CallContext = aServiceContext('gateway'),
) => app.bus.run(app.useCases.startSession, aStartSessionCommand(overrides), ctx);

/**
 * Makes authz refuse as authz-service does (its reason says whether the resource named an owner)
 * and returns a probe: `useCase` on a session id as `stranger`, giving what the caller saw and
 * the repository reads and permission checks it took.
 */
export function strangerProbe<I extends { sessionId: string }>(
  app: TestApp,
  useCase: UseCase<I, unknown>,
  stranger: string,
) {
  const check = vi
    .spyOn(app.permissions, 'check')
    .mockImplementation(async (_subject, _permission, resource) => ({
      allowed: false,
      reason: resource.ownerId ? 'owned by someone else' : 'names no owner',
    }));
  const findById = vi.spyOn(app.sessions, 'findById');
  return async (sessionId: string) => {
    findById.mockClear();
    check.mockClear();
    const error = (await app.bus
      .run(useCase, { sessionId } as I, aServiceContext('gateway', { userId: stranger }))
      .catch((e: unknown) => e)) as AppError;
    return {
      seen: [error.kind, error.reason, error.message, error.metadata],
      work: [findById.mock.calls.length, check.mock.calls.length],
    };
  };
}
