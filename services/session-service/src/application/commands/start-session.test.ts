import { MemoryIdempotencyStore } from '@warden/bus';
import { describe, expect, it, vi } from 'vitest';
import { dyingAfterCommit } from '../../../test/support/dying-idempotency-store.js';
import {
  aServiceContext,
  aStartSessionCommand,
  aUserId,
  HOUR,
  MINUTE,
  T0,
} from '../../../test/support/mothers.js';
import { sessionOf, signIn, testApp, withAda } from '../../../test/support/test-app.js';
import { hashToken } from '../../domain/session-token.js';
import { end } from '../../domain/session.js';
import { START_SESSION_REPLAY } from './start-session.js';

const ctx = aServiceContext('gateway');

function appWithAda(settings = {}) {
  const { app, userId } = withAda(testApp({ settings }));
  return { app, userId, start: (overrides = {}) => signIn(app, overrides, ctx) };
}

describe('StartSession', () => {
  it('starts an active session and returns its token once, keeping only the hash', async () => {
    const { app, userId, start } = appWithAda();
    const { session, token } = await start();
    expect(token).toMatch(/^wst_[A-Za-z0-9_-]{43}$/);
    expect(session).toMatchObject({
      userId,
      status: 'ACTIVE',
      createTime: T0,
      lastSeenTime: T0,
      endReason: null,
    });
    expect(session.expireTime).toEqual(new Date(T0.getTime() + 24 * HOUR));
    expect(session.idleExpireTime).toEqual(new Date(T0.getTime() + 30 * MINUTE));
    const stored = app.sessions.sessions.get(session.id)!;
    expect(stored.tokenHash).toBe(hashToken(token));
    expect(JSON.stringify(stored)).not.toContain(token.slice(4));
    expect(app.sessions.eventsOf('started').map((s) => s.id)).toEqual([session.id]);
  });

  it('normalizes the email and records the client, cutting a long user agent to 512 characters', async () => {
    const { app, start } = appWithAda();
    const { session } = await start({
      email: '  ADA@Example.com ',
      client: { ipAddress: '2001:db8::1', userAgent: 'x'.repeat(600) },
    });
    expect(app.credentials.calls.at(-1)!.email).toBe('ada@example.com');
    expect(session.client).toEqual({ ipAddress: '2001:db8::1', userAgent: 'x'.repeat(512) });
  });

  it('accepts a missing client', async () => {
    const { start } = appWithAda();
    const { session } = await start({ client: undefined });
    expect(session.client).toEqual({ ipAddress: '', userAgent: '' });
  });

  it('reports every bad field at once as INVALID_ARGUMENT', async () => {
    const { app, start } = appWithAda();
    const failure = start({
      email: ' ',
      password: '',
      client: { ipAddress: '999.1.1.1', userAgent: '' },
      requestId: 'r'.repeat(129),
    });
    await expect(failure).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [
        { field: 'email', description: 'is required' },
        { field: 'password', description: 'is required' },
        { field: 'client.ip_address', description: expect.any(String) },
        { field: 'request_id', description: expect.any(String) },
      ],
    });
    expect(app.credentials.calls).toHaveLength(0);
  });

  it('refuses an overlong email or password without asking user-service', async () => {
    const { start } = appWithAda();
    await expect(start({ email: `${'a'.repeat(320)}@x.io` })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'email' }],
    });
    await expect(start({ password: 'p'.repeat(1025) })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'password' }],
    });
  });

  it('passes user-service refusals through: wrong password, unknown email, lockout', async () => {
    const { start } = appWithAda();
    await expect(start({ password: 'wrong password' })).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'INVALID_CREDENTIALS',
    });
    await expect(start({ email: 'nobody@example.com' })).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'INVALID_CREDENTIALS',
    });
    for (let i = 0; i < 4; i++) await start({ password: 'wrong password' }).catch(() => undefined);
    await expect(start()).rejects.toMatchObject({
      kind: 'RESOURCE_EXHAUSTED',
      reason: 'ACCOUNT_LOCKED',
    });
  });

  it('refuses a disabled user with ACCOUNT_DISABLED', async () => {
    const { app, start } = appWithAda();
    app.credentials.setStatus('ada@example.com', 'DISABLED');
    await expect(start()).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
      reason: 'ACCOUNT_DISABLED',
    });
    expect(app.sessions.sessions.size).toBe(0);
  });

  it('says UNAVAILABLE when user-service cannot answer, and starts nothing', async () => {
    const { app, start } = appWithAda();
    app.credentials.unavailable = true;
    await expect(start()).rejects.toMatchObject({ kind: 'UNAVAILABLE' });
    expect(app.sessions.sessions.size).toBe(0);
  });

  it('ends the oldest session when the per-user limit is passed', async () => {
    const { app, start } = appWithAda({ maxPerUser: 2 });
    const first = await start();
    app.clock.advance(MINUTE);
    const second = await start();
    app.clock.advance(MINUTE);
    const third = await start();
    expect(app.sessions.sessions.get(first.session.id)).toMatchObject({
      status: 'ENDED',
      endReason: 'REPLACED_BY_LIMIT',
    });
    expect(app.sessions.sessions.get(second.session.id)!.status).toBe('ACTIVE');
    expect(app.sessions.sessions.get(third.session.id)!.status).toBe('ACTIVE');
    expect(app.sessions.eventsOf('ended').map((s) => s.id)).toEqual([first.session.id]);
    await expect(
      app.bus.run(app.useCases.validateSession, { token: first.token }, ctx),
    ).rejects.toMatchObject({ reason: 'SESSION_ENDED' });
  });

  describe('with a request_id', () => {
    it('returns the first response again, token included, without a second session', async () => {
      const { app, start } = appWithAda();
      const first = await start({ requestId: 'req-1' });
      const again = await start({ requestId: 'req-1' });
      expect(again).toEqual(first);
      expect(app.sessions.sessions.size).toBe(1);
      // Each replay proves the password again: verified before the record is looked up.
      expect(app.credentials.calls).toHaveLength(2);
    });

    it('refuses a replay with a wrong password as a fresh sign-in would, counting it', async () => {
      const { app, start } = appWithAda();
      await start({ requestId: 'req-1' });
      const guess = start({ requestId: 'req-1', password: 'a guess' });
      await expect(guess).rejects.toMatchObject({
        kind: 'UNAUTHENTICATED',
        reason: 'INVALID_CREDENTIALS',
      });
      for (let i = 0; i < 4; i++)
        await expect(start({ requestId: 'req-1', password: `guess ${i}` })).rejects.toMatchObject({
          reason: 'INVALID_CREDENTIALS',
        });
      // Locked: not even the right password gets the stored token back.
      await expect(start({ requestId: 'req-1' })).rejects.toMatchObject({
        kind: 'RESOURCE_EXHAUSTED',
        reason: 'ACCOUNT_LOCKED',
      });
      expect(app.sessions.sessions.size).toBe(1);
    });

    it("keeps another user's use of the same request_id apart: it neither reads nor blocks", async () => {
      const { app, start } = appWithAda();
      const bobId = aUserId();
      app.credentials.addUser('bob@example.com', 'bob password 123', bobId);
      const ada = await start({ requestId: 'shared' });
      const bob = await start({
        requestId: 'shared',
        email: 'bob@example.com',
        password: 'bob password 123',
      });
      expect(bob.session.userId).toBe(bobId);
      expect(bob.token).not.toBe(ada.token);
      expect(await start({ requestId: 'shared' })).toEqual(ada);
      expect(app.sessions.sessions.size).toBe(2);
    });

    it('keeps the request_ids of two calling services apart', async () => {
      const { app } = appWithAda();
      const as = async (service: string) =>
        sessionOf(
          await app.bus.run(
            app.useCases.startSession,
            aStartSessionCommand({ requestId: 'req-1' }),
            aServiceContext(service),
          ),
        );
      const viaGateway = await as('gateway');
      const viaConsole = await as('admin-console');
      expect(viaConsole.session.id).not.toBe(viaGateway.session.id);
      expect(await as('gateway')).toEqual(viaGateway);
    });

    it('fingerprints the request without its password', () => {
      const cmd = aStartSessionCommand({ password: 'a very particular password' });
      expect(START_SESSION_REPLAY.fingerprint(cmd)).not.toContain('particular');
      expect(START_SESSION_REPLAY.fingerprint(cmd)).toBe(
        START_SESSION_REPLAY.fingerprint({ ...cmd, password: 'anything else' }),
      );
    });

    it('refuses a replay once the account is disabled, returning no stored token', async () => {
      const { app, start } = appWithAda();
      await start({ requestId: 'req-1' });
      app.credentials.setStatus('ada@example.com', 'DISABLED');
      await expect(start({ requestId: 'req-1' })).rejects.toMatchObject({
        kind: 'PERMISSION_DENIED',
        reason: 'ACCOUNT_DISABLED',
      });
    });

    it('refuses the same key for a different request with IDEMPOTENCY_KEY_REUSED', async () => {
      const { start } = appWithAda();
      await start({ requestId: 'req-1' });
      await expect(
        start({ requestId: 'req-1', client: { ipAddress: '10.0.0.1', userAgent: 'other' } }),
      ).rejects.toMatchObject({
        kind: 'ALREADY_EXISTS',
        reason: 'IDEMPOTENCY_KEY_REUSED',
      });
    });

    it('refuses a replay after MFA was turned on: the AAL1 token made before is not handed out again', async () => {
      const { app, start } = appWithAda();
      await start({ requestId: 'req-1' });
      app.credentials.enableMfa('ada@example.com', '123456');
      await expect(start({ requestId: 'req-1' })).rejects.toMatchObject({
        kind: 'FAILED_PRECONDITION',
        reason: 'REPLAY_OUTDATED',
      });
      // A fresh sign-in gets what the current state grants: a challenge.
      await expect(
        app.bus.run(app.useCases.startSession, aStartSessionCommand({ requestId: 'req-2' }), ctx),
      ).resolves.toMatchObject({ challenge: { id: expect.any(String) } });
    });

    it('refuses a replay once its session has ended, rather than hand back a dead token', async () => {
      const { app, start } = appWithAda();
      const first = await start({ requestId: 'req-1' });
      await app.sessions.update(first.session.id, (s) => ({
        session: end(s, 'LOGOUT', app.clock.now())!,
        event: 'ended',
      }));
      await expect(start({ requestId: 'req-1' })).rejects.toMatchObject({
        kind: 'FAILED_PRECONDITION',
        reason: 'REPLAY_OUTDATED',
      });
      expect(app.sessions.sessions.size).toBe(1);
    });

    it('refuses a replay after a refresh replaced its token; the session lives on', async () => {
      const { app, start } = appWithAda();
      const first = await start({ requestId: 'req-1' });
      const refreshed = await app.bus.run(app.useCases.refreshSession, { token: first.token }, ctx);
      // Handing back the old token would invite the client to refresh with it: a theft signal
      // that ends the session.
      await expect(start({ requestId: 'req-1' })).rejects.toMatchObject({
        reason: 'REPLAY_OUTDATED',
      });
      await expect(
        app.bus.run(app.useCases.validateSession, { token: refreshed.token }, ctx),
      ).resolves.toMatchObject({ id: first.session.id, status: 'ACTIVE' });
    });

    it('refuses a replayed challenge once MFA was turned off', async () => {
      const { app, start } = appWithAda();
      app.credentials.enableMfa('ada@example.com', '123456');
      const signIn = () =>
        app.bus.run(app.useCases.startSession, aStartSessionCommand({ requestId: 'req-c' }), ctx);
      const first = await signIn();
      expect(await signIn()).toEqual(first);
      app.credentials.disableMfa('ada@example.com');
      await expect(signIn()).rejects.toMatchObject({ reason: 'REPLAY_OUTDATED' });
      await expect(start({ requestId: 'req-d' })).resolves.toMatchObject({
        session: { status: 'ACTIVE' },
      });
    });

    it('forgets a key whose request failed, so a corrected retry works', async () => {
      const { app, start } = appWithAda();
      app.credentials.unavailable = true;
      await expect(start({ requestId: 'req-1' })).rejects.toMatchObject({ kind: 'UNAVAILABLE' });
      app.credentials.unavailable = false;
      await expect(start({ requestId: 'req-1' })).resolves.toMatchObject({
        session: { status: 'ACTIVE' },
      });
    });
  });
});

describe('StartSession killed between its commit and its stored answer', () => {
  /** Ada's app on a store whose first request dies after committing; heartbeats stay still. */
  async function afterAKill() {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const dying = dyingAfterCommit(new MemoryIdempotencyStore());
    const { app, userId } = withAda(testApp({ idempotencyStore: dying.store }));
    void signIn(app, { requestId: 'req-k' }, ctx); // never answers: the process is gone
    await dying.killed;
    const orphan = [...app.sessions.sessions.values()][0]!;
    return { app, userId, orphan };
  }

  it('answers the retry with the session the dead attempt committed, under a new token', async () => {
    try {
      const { app, orphan } = await afterAKill();
      await expect(signIn(app, { requestId: 'req-k' }, ctx)).rejects.toMatchObject({
        kind: 'ABORTED',
        reason: 'REQUEST_IN_PROGRESS',
      });
      app.clock.advance(11_000); // past the pending record's takeover time
      const retried = await signIn(app, { requestId: 'req-k' }, ctx);
      expect(retried.session.id).toBe(orphan.id);
      expect(app.sessions.sessions.size).toBe(1);
      expect(app.sessions.eventsOf('started')).toHaveLength(1);
      expect(hashToken(retried.token)).not.toBe(orphan.tokenHash);
      await expect(
        app.bus.run(app.useCases.validateSession, { token: retried.token }, ctx),
      ).resolves.toMatchObject({ id: orphan.id, status: 'ACTIVE' });
      // The recovered answer is the stored one from now on.
      expect((await signIn(app, { requestId: 'req-k' }, ctx)).token).toBe(retried.token);
    } finally {
      vi.useRealTimers();
    }
  });

  it('signs in afresh when the committed session has ended meanwhile', async () => {
    try {
      const { app, orphan } = await afterAKill();
      await app.sessions.update(orphan.id, (s) => ({
        session: end(s, 'ADMIN', app.clock.now())!,
        event: 'ended',
      }));
      app.clock.advance(11_000);
      const retried = await signIn(app, { requestId: 'req-k' }, ctx);
      expect(retried.session.id).not.toBe(orphan.id);
      expect(app.sessions.eventsOf('started')).toHaveLength(2);
      expect((await signIn(app, { requestId: 'req-k' }, ctx)).session.id).toBe(retried.session.id);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives no password-only session to a user who turned MFA on meanwhile: a challenge instead', async () => {
    try {
      const { app, orphan } = await afterAKill();
      app.credentials.enableMfa('ada@example.com', '123456');
      app.clock.advance(11_000);
      const retried = await app.bus.run(
        app.useCases.startSession,
        aStartSessionCommand({ requestId: 'req-k' }),
        ctx,
      );
      expect(retried).toMatchObject({ challenge: { id: expect.any(String) } });
      expect((await app.sessions.findById(orphan.id))?.tokenHash).toBe(orphan.tokenHash);
    } finally {
      vi.useRealTimers();
    }
  });
});
