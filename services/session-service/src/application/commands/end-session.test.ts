import { describe, expect, it, vi } from 'vitest';
import { aServiceContext, aUserId, HOUR, MINUTE, T0 } from '../../../test/support/mothers.js';
import { signIn, strangerProbe, withAda } from '../../../test/support/test-app.js';

const at = (ms: number) => new Date(T0.getTime() + ms);

async function signedIn() {
  const { app, userId } = withAda();
  const started = await signIn(app);
  /** EndSession of ada's session (or another) by `user` through the gateway. */
  const endAs = (user: { userId: string; sessionId?: string }, sessionId = started.session.id) =>
    app.bus.run(app.useCases.endSession, { sessionId }, aServiceContext('gateway', user));
  return { app, userId, ...started, endAs };
}

describe('EndSession', () => {
  it("refuses a stranger alike for someone else's session and an unknown id, after the same reads", async () => {
    const { app, session } = await signedIn();
    const attempt = strangerProbe(app, app.useCases.endSession, aUserId());
    const theirs = await attempt(session.id);
    const unknown = await attempt(aUserId());
    expect(theirs.seen[0]).toBe('PERMISSION_DENIED');
    expect(unknown).toEqual(theirs);
    expect(theirs.work).toEqual([1, 1]);
  });

  it('lets the owner log out (reason LOGOUT) with session.end:own', async () => {
    const { app, userId, endAs } = await signedIn();
    app.permissions.grant(userId, 'session.end:own');
    app.clock.advance(MINUTE);
    const ended = await endAs({ userId });
    expect(ended).toMatchObject({ status: 'ENDED', endReason: 'LOGOUT', endTime: at(MINUTE) });
    expect(app.sessions.eventsOf('ended')).toHaveLength(1);
  });

  it("logs out the session of the caller's own token without reading it before the write", async () => {
    const { app, userId, session, endAs } = await signedIn();
    app.permissions.grant(userId, 'session.end:own');
    const findById = vi.spyOn(app.sessions, 'findById');
    const ended = await endAs({ userId, sessionId: session.id });
    expect(ended.endReason).toBe('LOGOUT');
    expect(findById).not.toHaveBeenCalled();
  });

  it("does not take a token's user as the owner of a different session", async () => {
    const { app, session, endAs } = await signedIn();
    const stranger = aUserId();
    app.permissions.grant(stranger, 'session.end:own');
    await expect(endAs({ userId: stranger, sessionId: aUserId() })).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
    });
    expect(app.sessions.sessions.get(session.id)!.status).toBe('ACTIVE');
  });

  it('records ADMIN when someone else ends it', async () => {
    const { app, endAs } = await signedIn();
    const admin = aUserId();
    app.permissions.grant(admin, 'session.end');
    const ended = await endAs({ userId: admin });
    expect(ended.endReason).toBe('ADMIN');
  });

  it('checks session.end on the session with its user as owner', async () => {
    const { app, userId, session, endAs } = await signedIn();
    const stranger = aUserId();
    app.permissions.grant(stranger, 'session.end:own');
    await expect(endAs({ userId: stranger })).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
    });
    expect(app.permissions.asked.at(-1)).toEqual({
      subjectId: stranger,
      permission: 'session.end',
      resource: { type: 'session', id: session.id, ownerId: userId },
    });
  });

  it('asks for a user token when the calling service itself may not', async () => {
    const { app, session } = await signedIn();
    await expect(
      app.bus.run(app.useCases.endSession, { sessionId: session.id }, aServiceContext('gateway')),
    ).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'USER_TOKEN_REQUIRED',
    });
  });

  it('returns an ended or expired session unchanged and emits nothing', async () => {
    const { app, session } = await signedIn();
    app.permissions.grant('service:admin-tool', 'session.end');
    const ctx = aServiceContext('admin-tool');
    const first = await app.bus.run(app.useCases.endSession, { sessionId: session.id }, ctx);
    app.clock.advance(MINUTE);
    await expect(
      app.bus.run(app.useCases.endSession, { sessionId: session.id }, ctx),
    ).resolves.toEqual(first);
    expect(app.sessions.eventsOf('ended')).toHaveLength(1);

    const other = await signIn(app);
    app.clock.advance(HOUR);
    await expect(
      app.bus.run(app.useCases.endSession, { sessionId: other.session.id }, ctx),
    ).resolves.toMatchObject({ status: 'EXPIRED', endReason: 'IDLE_TIMEOUT' });
    expect(app.sessions.eventsOf('ended')).toHaveLength(1);
  });

  it('answers NOT_FOUND for an unknown session to those allowed to ask, INVALID_ARGUMENT for a malformed id', async () => {
    const { app } = await signedIn();
    app.permissions.grant('service:admin-tool', 'session.end');
    const ctx = aServiceContext('admin-tool');
    await expect(
      app.bus.run(app.useCases.endSession, { sessionId: aUserId() }, ctx),
    ).rejects.toMatchObject({ kind: 'NOT_FOUND', reason: 'SESSION_NOT_FOUND' });
    await expect(
      app.bus.run(app.useCases.endSession, { sessionId: 'not-a-uuid' }, ctx),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'session_id', description: 'must be a UUID' }],
    });
    await expect(
      app.bus.run(app.useCases.endSession, { sessionId: '' }, ctx),
    ).rejects.toMatchObject({ kind: 'INVALID_ARGUMENT' });
  });
});
