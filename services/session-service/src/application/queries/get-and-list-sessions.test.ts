import { describe, expect, it } from 'vitest';
import { aServiceContext, aUserId, HOUR, MINUTE } from '../../../test/support/mothers.js';
import { signIn, strangerProbe, withAda } from '../../../test/support/test-app.js';
import type { ListActiveSessions } from './list-active-sessions.js';

async function userWithSessions(count: number) {
  const { app, userId } = withAda();
  const started = [];
  for (let i = 0; i < count; i++) {
    started.push(await signIn(app));
    app.clock.advance(1_000);
  }
  app.permissions.grant(userId, 'session.read:own', 'session.list:own');
  const asUser = aServiceContext('gateway', { userId });
  const list = (input: ListActiveSessions, ctx = asUser) =>
    app.bus.run(app.useCases.listActiveSessions, input, ctx);
  return { app, userId, started, asUser, list };
}

describe('GetSession', () => {
  it("refuses a stranger alike for someone else's session and an unknown id, after the same reads", async () => {
    const { app, started } = await userWithSessions(1);
    const attempt = strangerProbe(app, app.useCases.getSession, aUserId());
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
    const { userId, started, list } = await userWithSessions(5);
    const pageOf = (pageToken = '') => list({ userId, pageSize: 2, pageToken });
    const seen: string[] = [];
    let page = await pageOf();
    seen.push(...page.sessions.map((s) => s.id));
    while (page.nextPageToken) {
      page = await pageOf(page.nextPageToken);
      seen.push(...page.sessions.map((s) => s.id));
    }
    expect(seen).toEqual(started.map((s) => s.session.id).reverse());
  });

  it('leaves out ended and expired sessions', async () => {
    const { app, userId, started, asUser, list } = await userWithSessions(3);
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
    const page = await list({ userId, pageSize: 0, pageToken: '' });
    expect(page.sessions.map((s) => s.id)).toEqual([started[2]!.session.id]);
  });

  it('treats page sizes above 500 as 500 and refuses negative ones', async () => {
    const { userId, list } = await userWithSessions(1);
    await expect(list({ userId, pageSize: 10_000, pageToken: '' })).resolves.toMatchObject({
      nextPageToken: '',
    });
    await expect(list({ userId, pageSize: -1, pageToken: '' })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'page_size' }],
    });
  });

  it('refuses a page token that is garbage or was issued for another user', async () => {
    const { app, userId, list } = await userWithSessions(3);
    const first = await list({ userId, pageSize: 1, pageToken: '' });
    app.permissions.grant('service:admin-tool', 'session.list');
    const admin = aServiceContext('admin-tool');
    await expect(
      list({ userId: aUserId(), pageSize: 1, pageToken: first.nextPageToken }, admin),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      reason: 'INVALID_PAGE_TOKEN',
    });
    await expect(list({ userId, pageSize: 1, pageToken: '%%%' }, admin)).rejects.toMatchObject({
      reason: 'INVALID_PAGE_TOKEN',
    });
  });

  it('refuses to list another user’s sessions', async () => {
    const { list } = await userWithSessions(1);
    await expect(list({ userId: aUserId(), pageSize: 0, pageToken: '' })).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
    });
  });
});
