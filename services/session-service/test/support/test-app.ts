import { randomUUID } from 'node:crypto';
import { MemoryIdempotencyStore, TablePermissionChecker } from '@warden/bus';
import { createLogger } from '@warden/logger';
import { FakeCredentialsVerifier } from '../../src/adapters/memory/fake-credentials-verifier.js';
import { FixedClock } from '../../src/adapters/memory/fixed-clock.js';
import { MemorySessionRepository } from '../../src/adapters/memory/memory-session-repository.js';
import type { SessionSettings } from '../../src/application/settings.js';
import type { WatchLimits } from '../../src/application/watch-hub.js';
import { createSessionApp, type SessionApp } from '../../src/app.js';
import { someSettings, T0 } from './mothers.js';

export interface TestApp extends SessionApp {
  sessions: MemorySessionRepository;
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
  } = {},
): TestApp {
  const sessions = new MemorySessionRepository();
  const credentials = new FakeCredentialsVerifier();
  const permissions = new TablePermissionChecker();
  const clock = new FixedClock(T0);
  const app = createSessionApp({
    sessions,
    credentials,
    authorizer: permissions,
    idempotencyStore: new MemoryIdempotencyStore(),
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
  });
  return { ...app, sessions, credentials, permissions, clock };
}
