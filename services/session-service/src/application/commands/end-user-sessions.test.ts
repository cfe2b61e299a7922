import { describe, expect, it } from 'vitest';
import { aServiceContext, aStartSessionCommand, aUserId } from '../../../test/support/mothers.js';
import { sessionOf, testApp } from '../../../test/support/test-app.js';

async function threeSessions() {
  const app = testApp();
  const userId = aUserId();
  app.credentials.addUser('ada@example.com', 'correct horse battery staple', userId);
  const started = [];
  for (let i = 0; i < 3; i++)
    started.push(
      sessionOf(
        await app.bus.run(
          app.useCases.startSession,
          aStartSessionCommand(),
          aServiceContext('gateway'),
        ),
      ),
    );
  return { app, userId, started };
}

describe('EndUserSessions', () => {
  it('ends every other session of the user, as a logout when the user asks', async () => {
    const { app, userId, started } = await threeSessions();
    app.permissions.grant(userId, 'session.end:own');
    const keep = started[0]!.session.id;
    const count = await app.bus.run(
      app.useCases.endUserSessions,
      { userId, exceptSessionId: keep },
      aServiceContext('gateway', { userId, sessionId: keep }),
    );
    expect(count).toBe(2);
    expect(app.sessions.sessions.get(keep)!.status).toBe('ACTIVE');
    expect(app.sessions.eventsOf('ended').map((s) => s.endReason)).toEqual(['LOGOUT', 'LOGOUT']);
    await expect(
      app.bus.run(app.useCases.validateSession, { token: started[1]!.token }, aServiceContext()),
    ).rejects.toMatchObject({ reason: 'SESSION_ENDED' });
  });

  it('ends all of them for an administrator, and nothing the second time', async () => {
    const { app, userId } = await threeSessions();
    app.permissions.grant('service:support-tool', 'session.end');
    const ctx = aServiceContext('support-tool');
    await expect(
      app.bus.run(app.useCases.endUserSessions, { userId, exceptSessionId: '' }, ctx),
    ).resolves.toBe(3);
    await expect(
      app.bus.run(app.useCases.endUserSessions, { userId, exceptSessionId: '' }, ctx),
    ).resolves.toBe(0);
    expect(app.sessions.eventsOf('ended').every((s) => s.endReason === 'ADMIN')).toBe(true);
  });

  it('finds nothing to end for an unknown user', async () => {
    const { app } = await threeSessions();
    app.permissions.grant('service:support-tool', 'session.end');
    await expect(
      app.bus.run(
        app.useCases.endUserSessions,
        { userId: aUserId(), exceptSessionId: '' },
        aServiceContext('support-tool'),
      ),
    ).resolves.toBe(0);
  });

  it('refuses other users and malformed ids', async () => {
    const { app, userId } = await threeSessions();
    const stranger = aUserId();
    app.permissions.grant(stranger, 'session.end:own');
    await expect(
      app.bus.run(
        app.useCases.endUserSessions,
        { userId, exceptSessionId: '' },
        aServiceContext('gateway', { userId: stranger }),
      ),
    ).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
    });
    await expect(
      app.bus.run(
        app.useCases.endUserSessions,
        { userId: 'x', exceptSessionId: 'y' },
        aServiceContext('gateway', { userId: stranger }),
      ),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'user_id' }, { field: 'except_session_id' }],
    });
  });
});
