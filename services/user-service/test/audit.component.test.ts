import { Metadata } from '@grpc/grpc-js';
import { MemoryAuditLog, TablePermissionChecker, type CallContext } from '@warden/bus';
import type { AppError } from '@warden/errors';
import { auditv1, type userv1 } from '@warden/proto';
import { describe, expect, it } from 'vitest';
import { aCallContext } from './support/mothers.js';
import { aTestApp } from './support/test-app.js';

const ADMIN = '0190a000-0000-7000-8000-0000000000ad';
const USER = '0190a000-0000-7000-8000-000000000001';
const T0 = Date.parse('2026-11-30T10:00:00.000Z');

const log = new MemoryAuditLog();
log.record(
  ...['user.registered', 'user.updated', 'user.disabled'].map((action, i) => ({
    id: `0190a000-0000-7000-8000-00000000000${i}`,
    time: new Date(T0 + i * 1000),
    actor: { type: 'SYSTEM' as const, id: '', viaService: '' },
    action,
    target: { type: 'user', id: USER },
    requestId: '',
    traceId: '',
    reason: i === 2 ? 'fraud' : '',
    eventId: '',
    details: {},
  })),
);
const app = aTestApp({
  auditLog: log,
  authorizer: new TablePermissionChecker({ [ADMIN]: ['audit.read'], [USER]: ['user.read:own'] }),
});
const as = (userId: string): CallContext =>
  aCallContext({ user: { userId, sessionId: 's', assuranceLevel: 'AAL2' } });
const list = (request: Partial<userv1.ListAuditEventsRequest>, ctx: CallContext) =>
  app.handlers.listAuditEvents(
    { pageSize: 0, pageToken: '', ...request },
    { ctx, metadata: new Metadata(), signal: new AbortController().signal },
  );
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error as AppError,
  );

describe('UserService.ListAuditEvents', () => {
  it("answers an admin with user-service's entries, newest first, page after page", async () => {
    const first = await list({ pageSize: 2 }, as(ADMIN));
    expect(first.auditEvents.map((e) => e.action)).toEqual(['user.disabled', 'user.updated']);
    expect(first.auditEvents[0]).toMatchObject({
      service: 'user-service',
      actor: { type: auditv1.AuditActorType.AUDIT_ACTOR_TYPE_SYSTEM, id: '' },
      reason: 'fraud',
    });
    const rest = await list({ pageSize: 2, pageToken: first.nextPageToken }, as(ADMIN));
    expect(rest).toMatchObject({ nextPageToken: '' });
    expect(rest.auditEvents.map((e) => e.action)).toEqual(['user.registered']);
  });

  it('refuses a user without audit.read, even about themselves', async () => {
    const filter = {
      actorId: '',
      targetId: USER,
      action: '',
      startTime: undefined,
      endTime: undefined,
    };
    const error = await failure(list({ filter }, as(USER)));
    expect([error.kind, error.metadata.permission]).toEqual(['PERMISSION_DENIED', 'audit.read']);
  });

  it('refuses an end_time before start_time with a field violation', async () => {
    const filter = {
      actorId: '',
      targetId: '',
      action: '',
      startTime: new Date(T0),
      endTime: new Date(T0 - 1),
    };
    const error = await failure(list({ filter }, as(ADMIN)));
    expect(error.violations.map((v) => v.field)).toEqual(['filter.end_time']);
  });
});
