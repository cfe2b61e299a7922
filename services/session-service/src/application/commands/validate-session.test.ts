import { describe, expect, it } from 'vitest';
import { aServiceContext, aToken, HOUR, MINUTE, T0 } from '../../../test/support/mothers.js';
import { signIn, testApp, withAda, type TestApp } from '../../../test/support/test-app.js';
import { end } from '../../domain/session.js';

const ctx = aServiceContext('gateway');
const at = (ms: number) => new Date(T0.getTime() + ms);

async function signedIn(app: TestApp = testApp()) {
  withAda(app);
  const started = await signIn(app, {}, ctx);
  const validate = (token = started.token) =>
    app.bus.run(app.useCases.validateSession, { token }, ctx);
  return { app, ...started, validate };
}

/** Counts repository reads by token hash. */
function countLookups(app: TestApp): () => number {
  let lookups = 0;
  const original = app.sessions.findByTokenHash.bind(app.sessions);
  app.sessions.findByTokenHash = (hash) => {
    lookups++;
    return original(hash);
  };
  return () => lookups;
}

describe('ValidateSession', () => {
  it('returns the active session with its idle expiry slid', async () => {
    const { app, session, validate } = await signedIn();
    app.clock.advance(10 * MINUTE);
    const validated = await validate();
    expect(validated).toMatchObject({
      id: session.id,
      status: 'ACTIVE',
      lastSeenTime: at(10 * MINUTE),
      idleExpireTime: at(40 * MINUTE),
    });
  });

  it('answers from the cache without reading the database, and buffers the activity instead of writing it', async () => {
    const { app, session, validate } = await signedIn();
    const lookups = countLookups(app);
    for (let i = 1; i <= 5; i++) {
      app.clock.advance(1_000);
      await validate();
    }
    expect(lookups()).toBe(0);
    expect(app.sessions.sessions.get(session.id)!.lastSeenTime).toEqual(T0);
    expect(app.activity.peek(session.id)).toMatchObject({
      lastSeenTime: at(5_000),
      idleExpireTime: at(30 * MINUTE + 5_000),
    });
    await app.flusher.flush();
    expect(app.sessions.sessions.get(session.id)).toMatchObject({
      lastSeenTime: at(5_000),
      idleExpireTime: at(30 * MINUTE + 5_000),
    });
  });

  it('keeps a session alive as long as it is used within the idle timeout', async () => {
    const { app, validate } = await signedIn();
    for (let i = 0; i < 6; i++) {
      app.clock.advance(25 * MINUTE);
      await expect(validate()).resolves.toMatchObject({ status: 'ACTIVE' });
    }
  });

  it('refuses a session idle past its timeout, with the sweeper not run', async () => {
    const { app, validate } = await signedIn();
    app.clock.advance(30 * MINUTE);
    await expect(validate()).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_EXPIRED',
    });
  });

  it('refuses a session past its absolute expiry however active it was', async () => {
    const { app, validate } = await signedIn();
    for (let elapsed = 0; elapsed < 24 * HOUR - 20 * MINUTE; elapsed += 20 * MINUTE) {
      app.clock.advance(20 * MINUTE);
      await validate();
    }
    app.clock.set(at(24 * HOUR));
    await expect(validate()).rejects.toMatchObject({ reason: 'SESSION_EXPIRED' });
  });

  it('accepts a session another replica kept alive, re-reading it before calling it idle', async () => {
    const { app, session, validate } = await signedIn();
    await validate();
    app.clock.advance(29 * MINUTE);
    await app.sessions.recordActivity([
      { sessionId: session.id, lastSeenTime: at(29 * MINUTE), idleExpireTime: at(59 * MINUTE) },
    ]);
    app.clock.advance(5 * MINUTE);
    await expect(validate()).resolves.toMatchObject({ idleExpireTime: at(64 * MINUTE) });
  });

  it('re-reads a cached session after the cache TTL and sees that it ended', async () => {
    const { app, session, validate } = await signedIn(testApp({ cacheTtlMs: 5_000 }));
    await validate();
    const stored = app.sessions.sessions.get(session.id)!;
    app.sessions.sessions.set(session.id, end(stored, 'ADMIN', app.clock.now())!);
    await expect(validate()).resolves.toMatchObject({ status: 'ACTIVE' });
    app.clock.advance(5_000);
    await expect(validate()).rejects.toMatchObject({ reason: 'SESSION_ENDED' });
  });

  it('refuses at once when the session ended here, and once its event dropped it from the cache', async () => {
    const { app, session, validate } = await signedIn();
    await validate();
    app.permissions.grant('service:admin-tool', 'session.end');
    await app.bus.run(
      app.useCases.endSession,
      { sessionId: session.id },
      aServiceContext('admin-tool'),
    );
    await expect(validate()).rejects.toMatchObject({ reason: 'SESSION_ENDED' });

    const other = await signedIn(app);
    await other.validate();
    const stored = app.sessions.sessions.get(other.session.id)!;
    app.sessions.sessions.set(stored.id, end(stored, 'ADMIN', app.clock.now())!);
    app.cache.dropSession(stored.id);
    await expect(other.validate()).rejects.toMatchObject({ reason: 'SESSION_ENDED' });
  });

  it('refuses unknown and malformed tokens as SESSION_NOT_FOUND', async () => {
    const { validate } = await signedIn();
    await expect(validate(aToken())).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_NOT_FOUND',
    });
    await expect(validate('')).rejects.toMatchObject({ reason: 'SESSION_NOT_FOUND' });
    await expect(validate('Bearer wst_abc')).rejects.toMatchObject({ reason: 'SESSION_NOT_FOUND' });
  });

  it('reads the database once for concurrent first validations of one token', async () => {
    const { app, validate } = await signedIn();
    app.cache.clear();
    const lookups = countLookups(app);
    await Promise.all([validate(), validate(), validate()]);
    expect(lookups()).toBe(1);
  });

  it('bypasses the cache while events cannot be heard', async () => {
    const { app, validate } = await signedIn();
    app.cache.setTrusted(false);
    const lookups = countLookups(app);
    await validate();
    await validate();
    expect(lookups()).toBe(2);
  });
});
