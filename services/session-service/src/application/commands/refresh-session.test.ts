import { describe, expect, it } from 'vitest';
import {
  aServiceContext,
  aStartSessionCommand,
  aToken,
  aUserId,
  MINUTE,
  T0,
} from '../../../test/support/mothers.js';
import { sessionOf, testApp } from '../../../test/support/test-app.js';
import { hashToken } from '../../domain/session-token.js';

const ctx = aServiceContext('gateway');
const at = (ms: number) => new Date(T0.getTime() + ms);

async function signedIn() {
  const app = testApp();
  app.credentials.addUser('ada@example.com', 'correct horse battery staple', aUserId());
  const started = sessionOf(
    await app.bus.run(app.useCases.startSession, aStartSessionCommand(), ctx),
  );
  return {
    app,
    ...started,
    refresh: (token: string) => app.bus.run(app.useCases.refreshSession, { token }, ctx),
    validate: (token: string) => app.bus.run(app.useCases.validateSession, { token }, ctx),
  };
}

describe('RefreshSession', () => {
  it('rotates the token of the same session and slides its idle expiry, not its absolute one', async () => {
    const { app, session, token, refresh } = await signedIn();
    app.clock.advance(10 * MINUTE);
    const refreshed = await refresh(token);
    expect(refreshed.token).not.toBe(token);
    expect(refreshed.session).toMatchObject({
      id: session.id,
      lastSeenTime: at(10 * MINUTE),
      idleExpireTime: at(40 * MINUTE),
      expireTime: session.expireTime,
    });
    expect(app.sessions.sessions.get(session.id)!.tokenHash).toBe(hashToken(refreshed.token));
    expect(app.sessions.eventsOf('refreshed').map((s) => s.id)).toEqual([session.id]);
  });

  it('makes the old token stop working at once and the new one work', async () => {
    const { token, refresh, validate } = await signedIn();
    await validate(token);
    const refreshed = await refresh(token);
    await expect(validate(token)).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_NOT_FOUND',
    });
    await expect(validate(refreshed.token)).resolves.toMatchObject({ status: 'ACTIVE' });
  });

  it('ends the session when a rotated-out token is presented again (theft signal)', async () => {
    const { app, session, token, refresh, validate } = await signedIn();
    const refreshed = await refresh(token);
    await expect(refresh(token)).rejects.toMatchObject({ reason: 'SESSION_NOT_FOUND' });
    expect(app.sessions.sessions.get(session.id)).toMatchObject({
      status: 'ENDED',
      endReason: 'ADMIN',
    });
    expect(app.sessions.eventsOf('ended').map((s) => s.id)).toEqual([session.id]);
    await expect(validate(refreshed.token)).rejects.toMatchObject({ reason: 'SESSION_ENDED' });
  });

  it('only refuses a rotated-out token passed to ValidateSession (a request in flight during a refresh is no theft)', async () => {
    const { app, session, token, refresh, validate } = await signedIn();
    await refresh(token);
    await expect(validate(token)).rejects.toMatchObject({ reason: 'SESSION_NOT_FOUND' });
    expect(app.sessions.sessions.get(session.id)!.status).toBe('ACTIVE');
  });

  it('refuses unknown, malformed and expired tokens with their reasons', async () => {
    const { app, token, refresh } = await signedIn();
    await expect(refresh(aToken())).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_NOT_FOUND',
    });
    await expect(refresh('garbage')).rejects.toMatchObject({ reason: 'SESSION_NOT_FOUND' });
    app.clock.advance(31 * MINUTE);
    await expect(refresh(token)).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_EXPIRED',
    });
  });

  it('refuses the token of an ended session with SESSION_ENDED', async () => {
    const { app, session, token, refresh } = await signedIn();
    app.permissions.grant(session.userId, 'session.end:own');
    await app.bus.run(
      app.useCases.endSession,
      { sessionId: session.id },
      aServiceContext('gateway', { userId: session.userId }),
    );
    await expect(refresh(token)).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_ENDED',
    });
  });

  it('counts activity this replica has not written yet when deciding whether the session idled out', async () => {
    const { app, token, refresh, validate } = await signedIn();
    app.clock.advance(20 * MINUTE);
    await validate(token);
    app.clock.advance(20 * MINUTE);
    await expect(refresh(token)).resolves.toMatchObject({ session: { status: 'ACTIVE' } });
  });
});
