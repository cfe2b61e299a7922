import { randomUUID } from 'node:crypto';
import type { CallContext } from '@warden/bus';
import type { StartSession } from '../../src/application/commands/start-session.js';
import type { SessionSettings } from '../../src/application/settings.js';
import { hashToken } from '../../src/domain/session-token.js';
import { newSession, type Session } from '../../src/domain/session.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const T0 = new Date('2026-01-01T00:00:00.000Z');

export const aUserId = (): string => randomUUID();

export const someSettings = (overrides: Partial<SessionSettings> = {}): SessionSettings => ({
  absoluteTtlMs: 24 * HOUR,
  idleTimeoutMs: 30 * MINUTE,
  maxPerUser: 10,
  tokenBytes: 32,
  ...overrides,
});

let tokens = 0;
/** A well-formed token (not random: tests compare them). */
export const aToken = (): string => `wst_${String(++tokens).padStart(43, 'A')}`;

export function aSession(
  overrides: Partial<Session> & { token?: string; now?: Date } = {},
): Session {
  const { token, now, ...fields } = overrides;
  const base = newSession({
    id: randomUUID(),
    userId: aUserId(),
    tokenHash: hashToken(token ?? aToken()),
    client: { ipAddress: '203.0.113.7', userAgent: 'test-agent/1.0' },
    now: now ?? T0,
    lifetimes: someSettings(),
  });
  return { ...base, ...fields };
}

export function aStartSessionCommand(overrides: Partial<StartSession> = {}): StartSession {
  return {
    email: 'ada@example.com',
    password: 'correct horse battery staple',
    client: { ipAddress: '203.0.113.7', userAgent: 'Mozilla/5.0 (test)' },
    requestId: '',
    ...overrides,
  };
}

export function aServiceContext(
  service = 'gateway',
  user?: { userId: string; sessionId?: string },
): CallContext {
  return {
    service: { name: service },
    requestId: randomUUID(),
    ...(user ? { user: { userId: user.userId, sessionId: user.sessionId ?? randomUUID() } } : {}),
  };
}
