import { randomUUID } from 'node:crypto';
import { MemoryAuditLog, type AuditRecord } from '@warden/bus';
import { AppError } from '@warden/errors';
import { callUnary, createClient } from '@warden/grpc';
import { auditv1, authzv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuthzRepository } from '../src/adapters/memory/memory-authz-repository.js';
import { newAssignment } from '../src/domain/index.js';
import { aUserId, T0 } from './support/mothers.js';
import { seed } from './support/seed.js';
import { SERVICE_KEYS, startAuthzServer } from './support/server.js';

let started: Awaited<ReturnType<typeof startAuthzServer>>;
let client: authzv1.AuthzServiceClient;
const adminId = aUserId();
const playerId = aUserId();
const log = new MemoryAuditLog();
const entry = (i: number, action: string): AuditRecord => ({
  id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
  time: new Date(T0.getTime() + i * 1000),
  actor: { type: 'USER', id: adminId, viaService: 'gateway' },
  action,
  target: { type: 'subject', id: playerId },
  requestId: `req-${i}`,
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  reason: '',
  eventId: randomUUID(),
  details: { role: 'moderator' },
});

beforeAll(async () => {
  const repository = new MemoryAuthzRepository();
  await seed(repository, {
    assignments: [
      newAssignment({ subjectId: adminId, role: 'admin' }, T0),
      newAssignment({ subjectId: playerId, role: 'player' }, T0),
    ],
  });
  log.record(entry(1, 'role.assigned'), entry(2, 'role.revoked'), entry(3, 'role.assigned'));
  started = await startAuthzServer({ repository, auditLog: log });
  started.tokens.set('wst_admin', { userId: adminId, sessionId: randomUUID() });
  started.tokens.set('wst_player', { userId: playerId, sessionId: randomUUID() });
  client = createClient(authzv1.AuthzServiceClient, {
    address: started.address,
    serviceKey: SERVICE_KEYS.gateway,
  });
});

afterAll(async () => {
  client?.close();
  await started?.close();
});

const list = (request: Partial<authzv1.ListAuditEventsRequest>, token?: string) =>
  callUnary<authzv1.ListAuditEventsRequest, authzv1.ListAuditEventsResponse>(
    client.listAuditEvents.bind(client) as never,
    client,
    { pageSize: 0, pageToken: '', ...request },
    token ? { bearerToken: token, requestId: randomUUID() } : undefined,
  );
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error as AppError,
  );

describe('AuthzService.ListAuditEvents over gRPC', () => {
  it("answers an admin with authz-service's entries, newest first, in pages", async () => {
    const first = await list({ pageSize: 2 }, 'wst_admin');
    expect(first.auditEvents.map((e) => e.requestId)).toEqual(['req-3', 'req-2']);
    expect(first.auditEvents[0]).toEqual({
      id: entry(3, '').id,
      time: new Date(T0.getTime() + 3000),
      service: 'authz-service',
      actor: {
        type: auditv1.AuditActorType.AUDIT_ACTOR_TYPE_USER,
        id: adminId,
        viaService: 'gateway',
      },
      action: 'role.assigned',
      target: { type: 'subject', id: playerId },
      requestId: 'req-3',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      reason: '',
      eventId: log.entries[2]!.eventId,
      details: { role: 'moderator' },
    });
    const second = await list({ pageSize: 2, pageToken: first.nextPageToken }, 'wst_admin');
    expect(second.auditEvents.map((e) => e.requestId)).toEqual(['req-1']);
    expect(second.nextPageToken).toBe('');
  });

  it('filters by action and time', async () => {
    const { auditEvents } = await list(
      {
        filter: {
          actorId: adminId,
          targetId: playerId,
          action: 'role.assigned',
          startTime: new Date(T0.getTime() + 2000),
          endTime: undefined,
        },
      },
      'wst_admin',
    );
    expect(auditEvents.map((e) => e.requestId)).toEqual(['req-3']);
  });

  it('refuses a player (PERMISSION_DENIED naming audit.read) and a bare service (UNAUTHENTICATED)', async () => {
    const player = await failure(list({}, 'wst_player'));
    expect([player.kind, player.metadata.permission]).toEqual(['PERMISSION_DENIED', 'audit.read']);
    expect((await failure(list({}))).kind).toBe('UNAUTHENTICATED');
  });

  it('refuses an end_time before start_time with a field violation', async () => {
    const error = await failure(
      list(
        {
          filter: {
            actorId: '',
            targetId: '',
            action: '',
            startTime: new Date(T0.getTime() + 1000),
            endTime: T0,
          },
        },
        'wst_admin',
      ),
    );
    expect(error.kind).toBe('INVALID_ARGUMENT');
    expect(error.violations.map((v) => v.field)).toEqual(['filter.end_time']);
  });
});
