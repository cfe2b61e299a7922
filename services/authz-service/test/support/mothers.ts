import { randomUUID } from 'node:crypto';
import type { CallContext } from '@warden/bus';
import { createLogger } from '@warden/logger';
import type { Clock } from '../../src/application/ports.js';
import type { Role, RoleAssignment } from '../../src/domain/index.js';

export const T0 = new Date('2030-01-01T00:00:00.000Z');

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private current: Date = T0) {}
  now(): Date {
    return this.current;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  set(time: Date): void {
    this.current = time;
  }
}

/** A fresh user id. */
export const aUserId = (): string => randomUUID();

export function aRole(overrides: Partial<Role> = {}): Role {
  return {
    name: 'moderator',
    description: 'Keeps the chat civil.',
    permissions: ['chat.mute', 'session.read'],
    inherits: [],
    builtIn: false,
    createTime: T0,
    updateTime: T0,
    ...overrides,
  };
}

export function anAssignment(overrides: Partial<RoleAssignment> = {}): RoleAssignment {
  return { subjectId: aUserId(), role: 'player', createTime: T0, ...overrides };
}

export function aServiceCall(service = 'user-service'): CallContext {
  return { service: { name: service }, requestId: 'test-request' };
}

export function aUserCall(userId: string, service = 'gateway'): CallContext {
  return {
    service: { name: service },
    user: { userId, sessionId: 'test-session' },
    requestId: 'test-request',
  };
}

export const silentLogger = createLogger({ service: 'authz-service-test', level: 'silent' });
