import { AppError } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import {
  consumerAuditScope,
  currentAuditScope,
  listAuditEvents,
  MemoryAuditLog,
  SYSTEM_AUDIT_SCOPE,
  type AuditRecord,
  type AuditScope,
} from './audit.js';
import { Bus } from './bus.js';
import type { CallContext } from './context.js';
import { AllowAllChecker, TablePermissionChecker } from './testing-checkers.js';
import type { UseCase } from './use-case.js';

const ADMIN = '0190a000-0000-7000-8000-0000000000ad';
const USER = '0190a000-0000-7000-8000-000000000001';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const asUser = (userId: string): CallContext => ({
  service: { name: 'gateway' },
  user: { userId, sessionId: 's1' },
  requestId: 'x-request-id',
  traceparent: TRACEPARENT,
});
const asService: CallContext = { service: { name: 'billing' }, requestId: 'x' };

/** A use case that reports the audit scope it ran in, with an idempotency key. */
const scopeProbe: UseCase<{ requestId?: string }, AuditScope> = {
  name: 'Probe',
  access: { kind: 'service' },
  idempotency: {
    key: (input) => input.requestId,
    fingerprint: () => '',
    encode: () => new Uint8Array(),
    decode: () => currentAuditScope(),
  },
  execute: async () => {
    await Promise.resolve();
    return currentAuditScope();
  },
};

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('the audit scope of a call', () => {
  const bus = new Bus({ authorizer: new AllowAllChecker() });

  it("is the user, through the service that carried the user's token, with the request_id and trace", async () => {
    await expect(bus.run(scopeProbe, { requestId: 'k-1' }, asUser(USER))).resolves.toEqual({
      actor: { type: 'USER', id: USER, viaService: 'gateway' },
      requestId: 'k-1',
      traceparent: TRACEPARENT,
    });
  });

  it('is the calling service acting on its own, with no request_id when it sent none', async () => {
    await expect(bus.run(scopeProbe, {}, asService)).resolves.toEqual({
      actor: { type: 'SERVICE', id: 'billing', viaService: '' },
      requestId: '',
    });
  });

  it('is warden itself outside any use case, and the event source for a consumer', () => {
    expect(currentAuditScope().actor).toEqual({ type: 'SYSTEM', id: '', viaService: '' });
    expect(
      consumerAuditScope({ source: 'user-service', requestId: 'k-2', traceparent: TRACEPARENT }),
    ).toEqual({
      actor: { type: 'SYSTEM', id: '', viaService: 'user-service' },
      requestId: 'k-2',
      traceparent: TRACEPARENT,
    });
  });

  it('leaves a request_id the use case refuses to its idempotency, after the permission check', async () => {
    const refusing: UseCase<object, string> = {
      name: 'Refusing',
      access: { kind: 'permission', permission: 'thing.make' },
      idempotency: {
        key: () => {
          throw new AppError('INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'request_id: too long');
        },
        fingerprint: () => '',
        encode: () => new Uint8Array(),
        decode: () => '',
      },
      execute: async () => 'made',
    };
    const denying = new Bus({ authorizer: new TablePermissionChecker() });
    const error = await rejection(denying.run(refusing, {}, asUser(USER)));
    expect(error.kind).toBe('PERMISSION_DENIED');
  });

  it("takes the request's request_id even when the use case replays requests itself", async () => {
    const ownReplays: UseCase<{ requestId: string }, AuditScope> = {
      name: 'OwnReplays',
      access: { kind: 'service' },
      execute: async () => currentAuditScope(),
    };
    const scope = await bus.run(ownReplays, { requestId: 'k-9' }, asService);
    expect(scope.requestId).toBe('k-9');
  });

  it('is not opened for a read-only use case, which is still authorized', async () => {
    const reading: UseCase<{ requestId: string }, AuditScope> = {
      name: 'Reading',
      access: { kind: 'permission', permission: 'thing.read' },
      readOnly: true,
      execute: async () => currentAuditScope(),
    };
    // At a server (no scope around the call): warden's own, not the caller's.
    await expect(bus.run(reading, { requestId: 'k-3' }, asUser(USER))).resolves.toEqual(
      SYSTEM_AUDIT_SCOPE,
    );
    // Inside a command's scope (a read it makes through the bus): that command's.
    const outer = await bus.run(
      {
        name: 'Outer',
        access: { kind: 'service' },
        execute: (_input: { requestId: string }, ctx) =>
          bus.run(reading, { requestId: 'k-4' }, ctx),
      },
      { requestId: 'k-5' },
      asService,
    );
    expect(outer).toMatchObject({ actor: { type: 'SERVICE', id: 'billing' }, requestId: 'k-5' });
    const denying = new Bus({ authorizer: new TablePermissionChecker() });
    const error = await rejection(denying.run(reading, { requestId: '' }, asUser(USER)));
    expect(error.kind).toBe('PERMISSION_DENIED');
  });

  it('does not leak into concurrent calls', async () => {
    const [a, b] = await Promise.all([
      bus.run(scopeProbe, { requestId: 'a' }, asUser(USER)),
      bus.run(scopeProbe, { requestId: 'b' }, asService),
    ]);
    expect(a.requestId).toBe('a');
    expect(b.actor.id).toBe('billing');
  });
});

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const entry = (i: number, overrides: Partial<AuditRecord> = {}): AuditRecord => ({
  id: `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
  time: new Date(T0 + Math.floor(i / 2) * 1000), // two entries per second: ties broken by id
  actor: { type: 'USER', id: i % 2 ? ADMIN : USER, viaService: 'gateway' },
  action: i % 3 ? 'user.updated' : 'user.disabled',
  target: { type: 'user', id: USER },
  requestId: '',
  traceId: '',
  reason: '',
  eventId: '',
  details: {},
  ...overrides,
});

describe('ListAuditEvents', () => {
  const log = new MemoryAuditLog();
  log.record(...Array.from({ length: 12 }, (_, i) => entry(i)));
  const useCase = listAuditEvents(log);
  const bus = new Bus({ authorizer: new TablePermissionChecker({ [ADMIN]: ['audit.read'] }) });
  const list = (input: Parameters<typeof useCase.execute>[0]) =>
    bus.run(useCase, input, asUser(ADMIN));
  const NO_FILTER = { actorId: '', targetId: '', action: '' };

  it('lists newest first in keyset pages, each entry once', async () => {
    const seen: string[] = [];
    let pageToken = '';
    for (let page = 0; page < 10; page++) {
      const result = await list({ pageSize: 5, pageToken });
      seen.push(...result.auditEvents.map((e) => e.id));
      pageToken = result.nextPageToken;
      if (!pageToken) break;
    }
    const expected = [...log.entries]
      .sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1))
      .map((e) => e.id);
    expect(seen).toEqual(expected);
  });

  it('combines the filters with AND, the time range end excluded', async () => {
    const page = await list({
      filter: {
        actorId: ADMIN,
        targetId: USER,
        action: 'user.updated',
        startTime: new Date(T0 + 1000),
        endTime: new Date(T0 + 5000),
      },
      pageSize: 0,
      pageToken: '',
    });
    const ids = page.auditEvents.map((e) => Number(e.id.slice(-12)));
    expect(ids).toEqual([7, 5]);
  });

  it('refuses an end_time before start_time with a field violation', async () => {
    const error = await rejection(
      list({
        filter: { ...NO_FILTER, startTime: new Date(T0), endTime: new Date(T0 - 1) },
        pageSize: 0,
        pageToken: '',
      }),
    );
    expect(error.kind).toBe('INVALID_ARGUMENT');
    expect(error.violations).toEqual([
      { field: 'filter.end_time', description: 'must not be before start_time' },
    ]);
  });

  it('refuses filters no entry could match: overlong, or with control characters', async () => {
    const error = await rejection(
      list({
        filter: { actorId: 'a'.repeat(257), targetId: 'x\u0000', action: '' },
        pageSize: 0,
        pageToken: '',
      }),
    );
    expect(error.violations.map((v) => v.field)).toEqual(['filter.actor_id', 'filter.target_id']);
  });

  it('refuses a token of another filter, a forged one, and a negative page size', async () => {
    const first = await list({ pageSize: 2, pageToken: '' });
    const other = await rejection(
      list({
        filter: { ...NO_FILTER, action: 'user.disabled' },
        pageSize: 2,
        pageToken: first.nextPageToken,
      }),
    );
    expect(other.reason).toBe('INVALID_PAGE_TOKEN');
    expect((await rejection(list({ pageSize: 2, pageToken: 'bm90LWEtdG9rZW4' }))).reason).toBe(
      'INVALID_PAGE_TOKEN',
    );
    expect((await rejection(list({ pageSize: -1, pageToken: '' }))).kind).toBe('INVALID_ARGUMENT');
  });

  it('caps a page at 500 entries', async () => {
    const big = new MemoryAuditLog();
    big.record(...Array.from({ length: 501 }, (_, i) => entry(i)));
    const page = await bus.run(
      listAuditEvents(big),
      { pageSize: 1000, pageToken: '' },
      asUser(ADMIN),
    );
    expect(page.auditEvents).toHaveLength(500);
    expect(page.nextPageToken).not.toBe('');
  });

  it('is refused without audit.read, naming the permission', async () => {
    const error = await rejection(bus.run(useCase, { pageSize: 0, pageToken: '' }, asUser(USER)));
    expect(error.kind).toBe('PERMISSION_DENIED');
    expect(error.metadata.permission).toBe('audit.read');
  });
});
