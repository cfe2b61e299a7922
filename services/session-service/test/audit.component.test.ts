import { Metadata } from '@grpc/grpc-js';
import { MemoryAuditLog } from '@warden/bus';
import type { AppError } from '@warden/errors';
import { auditv1, type sessionv1 } from '@warden/proto';
import { describe, expect, it } from 'vitest';
import { sessionServiceHandlers } from '../src/adapters/grpc/session-service-handlers.js';
import { aServiceContext, aUserId, T0 } from './support/mothers.js';
import { testApp } from './support/test-app.js';

const admin = aUserId();
const player = aUserId();
const sessionId = '0190a000-0000-7000-8000-0000000000e5';
const log = new MemoryAuditLog();
log.record(
  ...(['session.started', 'session.ended'] as const).map((action, i) => ({
    id: `0190a000-0000-7000-8000-00000000000${i}`,
    time: new Date(T0.getTime() + i * 1000),
    actor: { type: 'USER' as const, id: player, viaService: 'gateway' },
    action,
    target: { type: 'session', id: sessionId },
    requestId: '',
    traceId: '',
    reason: i === 1 ? 'LOGOUT' : '',
    eventId: '',
    details: { user_id: player },
  })),
);
const app = testApp({ auditLog: log });
app.permissions.grant(admin, 'audit.read').grant(player, 'session.read:own');
const handlers = sessionServiceHandlers(app.bus, app.useCases);
const list = (request: Partial<sessionv1.ListAuditEventsRequest>, userId: string) =>
  handlers.listAuditEvents(
    { pageSize: 0, pageToken: '', ...request },
    {
      ctx: aServiceContext('gateway', { userId }),
      metadata: new Metadata(),
      signal: new AbortController().signal,
    },
  );
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error as AppError,
  );

describe('SessionService.ListAuditEvents', () => {
  it("answers an admin with session-service's entries for a session, newest first", async () => {
    const filter = {
      actorId: '',
      targetId: sessionId,
      action: '',
      startTime: undefined,
      endTime: undefined,
    };
    const { auditEvents, nextPageToken } = await list({ filter }, admin);
    expect(nextPageToken).toBe('');
    expect(auditEvents.map((e) => [e.action, e.reason])).toEqual([
      ['session.ended', 'LOGOUT'],
      ['session.started', ''],
    ]);
    expect(auditEvents[0]).toMatchObject({
      service: 'session-service',
      actor: {
        type: auditv1.AuditActorType.AUDIT_ACTOR_TYPE_USER,
        id: player,
        viaService: 'gateway',
      },
      details: { user_id: player },
    });
  });

  it('refuses the session owner without audit.read', async () => {
    const error = await failure(list({}, player));
    expect([error.kind, error.metadata.permission]).toEqual(['PERMISSION_DENIED', 'audit.read']);
  });

  it('refuses a page token of another filter', async () => {
    const first = await list({ pageSize: 1 }, admin);
    const filter = {
      actorId: player,
      targetId: '',
      action: '',
      startTime: undefined,
      endTime: undefined,
    };
    const error = await failure(
      list({ filter, pageSize: 1, pageToken: first.nextPageToken }, admin),
    );
    expect(error.reason).toBe('INVALID_PAGE_TOKEN');
  });
});
