import type { AppError } from '@warden/errors';
import { describe, expect, it, vi } from 'vitest';
import {
  aServiceContext,
  aStartSessionCommand,
  aUserId,
  HOUR,
  MINUTE,
} from '../../../test/support/mothers.js';
import { testApp } from '../../../test/support/test-app.js';

async function userWithSessions(count: number) {
  const app = testApp();
  const userId = aUserId();
  app.credentials.addUser('ada@example.com', 'correct horse battery staple', userId);
  const started = [];
  for (let i = 0; i < count; i++) {
    started.push(
      await app.bus.run(
        app.useCases.startSession,
        aStartSessionCommand(),
        aServiceContext('gateway'),
      ),
    );
    app.clock.advance(1_000);
  }
  app.permissions.grant(userId, 'session.read:own', 'session.list:own');
  return { app, userId, started, asUser: aServiceContext('gateway', { userId }) };
}

describe('GetSession', () => {
  it("refuses a stranger alike for someone else's session and an unknown id, after the same reads", async () => {
    const { app, started } = await userWithSessions(1);
    const stranger = aUserId();
    // Like authz-service, whose reason says whether the resource named an owner.
    const check = vi
      .spyOn(app.permissions, 'check')
      .mockImplementation(async (_subject, _permission, resource) => ({
        allowed: false,
        reason: resource.ownerId ? 'owned by someone else' : 'names no owner',
      }));
    const findById = vi.spyOn(app.sessions, 'findById');
    const attempt = async (sessionId: string) => {
      findById.mockClear();
      check.mockClear();
      const error = (await app.bus
        .run(
          app.useCases.getSession,
          { sessionId },
          aServiceContext('gateway', { userId: stranger }),
        )
        .catch((e: unknown) => e)) as AppError;
      return {
        seen: [error.kind, error.reason, error.message, error.metadata],
        work: [findById.mock.calls.length, check.mock.calls.length],
      };
    };
    const theirs = await attempt(started[0]!.session.id);
    const unknown = await attempt(aUserId());
    expect(theirs.seen[0]).toBe('PERMISSION_DENIED');
    expect(unknown).toEqual(theirs);
    expect(theirs.work).toEqual([1, 1]);
  });

  it('returns the caller’s own session, with the activity seen here', async () => {
    const { app, started, asUser } = await userWithSessions(1);
    const { session, token } = started[0]!;
    await app.bus.run(app.useCases.validateSession, { token }, aServiceContext());
    await expect(
      app.bus.run(app.useCases.getSession, { sessionId: session.id }, asUser),
    ).resolves.toMatchObject({
      id: session.id,
      status: 'ACTIVE',
      lastSeenTime: app.clock.now(),
    });
  });

  it('shows a session past its expiry as expired before the sweeper records it', async () => {
    const { app, started, asUser } = await userWithSessions(1);
    app.clock.advance(HOUR);
    await expect(
      app.bus.run(app.useCases.getSession, { sessionId: started[0]!.session.id }, asUser),
    ).resolves.toMatchObject({
      status: 'EXPIRED',
      endReason: 'IDLE_TIMEOUT',
    });
  });

  it('refuses someone else’s session, and reports unknown or malformed ids', async () => {
    const { app, started } = await userWithSessions(1);
    const stranger = aUserId();
    app.permissions.grant(stranger, 'session.read:own');
    const asStranger = aServiceContext('gateway', { userId: stranger });
    await expect(
      app.bus.run(app.useCases.getSession, { sessionId: started[0]!.session.id }, asStranger),
    ).rejects.toMatchObject({ kind: 'PERMISSION_DENIED' });
    app.permissions.grant('service:admin-tool', 'session.read');
    await expect(
      app.bus.run(app.useCases.getSession, { sessionId: aUserId() }, aServiceContext('admin-tool')),
    ).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'SESSION_NOT_FOUND',
    });
    await expect(
      app.bus.run(app.useCases.getSession, { sessionId: 'nope' }, asStranger),
    ).rejects.toMatchObject({ kind: 'INVALID_ARGUMENT' });
  });
});

describe('ListActiveSessions', () => {
  it('pages through active sessions newest first with an opaque token', async () => {
    const { app, userId, started, asUser } = await userWithSessions(5);
    const list = (pageToken = '') =>
      app.bus.run(app.useCases.listActiveSessions, { userId, pageSize: 2, pageToken }, asUser);
    const seen: string[] = [];
    let page = await list();
    seen.push(...page.sessions.map((s) => s.id));
    while (page.nextPageToken) {
      page = await list(page.nextPageToken);
      seen.push(...page.sessions.map((s) => s.id));
    }
    expect(seen).toEqual(started.map((s) => s.session.id).reverse());
  });

  it('leaves out ended and expired sessions', async () => {
    const { app, userId, started, asUser } = await userWithSessions(3);
    app.permissions.grant(userId, 'session.end:own');
    await app.bus.run(app.useCases.endSession, { sessionId: started[0]!.session.id }, asUser);
    app.clock.advance(29 * MINUTE);
    await app.bus.run(
      app.useCases.validateSession,
      { token: started[2]!.token },
      aServiceContext(),
    );
    await app.flusher.flush();
    app.clock.advance(MINUTE);
    const page = await app.bus.run(
      app.useCases.listActiveSessions,
      { userId, pageSize: 0, pageToken: '' },
      asUser,
    );
    expect(page.sessions.map((s) => s.id)).toEqual([started[2]!.session.id]);
  });

  it('treats page sizes above 500 as 500 and refuses negative ones', async () => {
    const { app, userId, asUser } = await userWithSessions(1);
    await expect(
      app.bus.run(
        app.useCases.listActiveSessions,
        { userId, pageSize: 10_000, pageToken: '' },
        asUser,
      ),
    ).resolves.toMatchObject({ nextPageToken: '' });
    await expect(
      app.bus.run(app.useCases.listActiveSessions, { userId, pageSize: -1, pageToken: '' }, asUser),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'page_size' }],
    });
  });

  it('refuses a page token that is garbage or was issued for another user', async () => {
    const { app, userId, asUser } = await userWithSessions(3);
    const first = await app.bus.run(
      app.useCases.listActiveSessions,
      { userId, pageSize: 1, pageToken: '' },
      asUser,
    );
    app.permissions.grant('service:admin-tool', 'session.list');
    const admin = aServiceContext('admin-tool');
    await expect(
      app.bus.run(
        app.useCases.listActiveSessions,
        { userId: aUserId(), pageSize: 1, pageToken: first.nextPageToken },
        admin,
      ),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      reason: 'INVALID_PAGE_TOKEN',
    });
    await expect(
      app.bus.run(
        app.useCases.listActiveSessions,
        { userId, pageSize: 1, pageToken: '%%%' },
        admin,
      ),
    ).rejects.toMatchObject({ reason: 'INVALID_PAGE_TOKEN' });
  });

  it('refuses to list another user’s sessions', async () => {
    const { app, asUser } = await userWithSessions(1);
    await expect(
      app.bus.run(
        app.useCases.listActiveSessions,
        { userId: aUserId(), pageSize: 0, pageToken: '' },
        asUser,
      ),
    ).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
    });
  });
});
