import type { AppError } from '@warden/errors';
import { MemoryIdempotencyStore } from '@warden/bus';
import { describe, expect, it, vi } from 'vitest';
import { dyingAfterCommit } from '../../../test/support/dying-idempotency-store.js';
import { MemorySessionRepository } from '../../adapters/memory/memory-session-repository.js';
import type { MemoryMfaChallengeStore } from '../../adapters/memory/memory-mfa-challenge-store.js';
import { aServiceContext, MINUTE, T0 } from '../../../test/support/mothers.js';
import { startSession, testApp, withAda } from '../../../test/support/test-app.js';
import { hashChallengeId, MFA_CHALLENGE_TTL_MS } from '../../domain/mfa-challenge.js';
import { hashToken } from '../../domain/session-token.js';
import { end } from '../../domain/session.js';
import { toProtoSession } from '../../mapping.js';
import type { CompleteMfa } from './complete-mfa.js';

const ctx = aServiceContext('gateway');
const TOTP = '123456';
const OTHER_TOTP = '654321';
const RECOVERY = 'abcd-efgh-jkmn-pqrs';

/** Ada with MFA on: her password alone gets a challenge. */
async function challenged(app = testApp()) {
  const { userId } = withAda(app);
  app.credentials.enableMfa('ada@example.com', TOTP, OTHER_TOTP, RECOVERY);
  const started = await startSession(app, {}, ctx);
  if (!('challenge' in started)) throw new Error('expected a challenge');
  const complete = (overrides: Partial<CompleteMfa> = {}) =>
    app.bus.run(
      app.useCases.completeMfa,
      {
        challengeId: started.challenge.id,
        factor: { kind: 'TOTP', code: TOTP },
        requestId: '',
        ...overrides,
      },
      ctx,
    );
  return { app, userId, challenge: started.challenge, complete };
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: AppError) => e,
  );

describe('StartSession for a user with MFA on', () => {
  it('answers an opaque challenge (5 minutes) and makes no session and no token', async () => {
    const { app, userId, challenge } = await challenged();
    expect(challenge.id).toMatch(/^wmc_[A-Za-z0-9_-]{43}$/);
    expect(challenge.expireTime).toEqual(new Date(T0.getTime() + MFA_CHALLENGE_TTL_MS));
    expect(app.sessions.sessions.size).toBe(0);
    expect(app.sessions.eventsOf('started')).toEqual([]);
    const stored = [...app.challenges.challenges.values()];
    expect(stored).toHaveLength(1);
    // Only a hash of the id is kept.
    expect(stored[0]).toMatchObject({ idHash: hashChallengeId(challenge.id), userId, attempts: 0 });
    expect(JSON.stringify(stored)).not.toContain(challenge.id.slice(4));
  });

  it('still refuses a wrong password before any challenge', async () => {
    const { app } = withAda(testApp());
    app.credentials.enableMfa('ada@example.com', TOTP);
    const error = await failureOf(startSession(app, { password: 'wrong password' }, ctx));
    expect(error?.reason).toBe('INVALID_CREDENTIALS');
    expect(app.challenges.challenges.size).toBe(0);
  });
});

describe('CompleteMfa', () => {
  it('creates an AAL2 session with factors [PASSWORD, TOTP] on the client of the sign-in', async () => {
    const { app, userId, complete } = await challenged();
    const { session, token } = await complete();
    expect(token).toMatch(/^wst_/);
    expect(session).toMatchObject({
      userId,
      status: 'ACTIVE',
      factors: ['PASSWORD', 'TOTP'],
      assuranceLevel: 'AAL2',
      client: { ipAddress: '203.0.113.7', userAgent: 'Mozilla/5.0 (test)' },
    });
    expect(app.credentials.secondFactors.calls).toEqual([
      { userId, factor: { kind: 'TOTP', code: TOTP } },
    ]);
    expect(app.sessions.eventsOf('started').map((s) => s.assuranceLevel)).toEqual(['AAL2']);
    // ValidateSession and the principal other services see carry the level.
    const validated = await app.bus.run(app.useCases.validateSession, { token }, ctx);
    expect(validated.assuranceLevel).toBe('AAL2');
    expect(await app.resolveUser(token, ctx)).toEqual({
      userId,
      sessionId: session.id,
      assuranceLevel: 'AAL2',
      authenticatedAt: session.createTime,
    });
    const proto = toProtoSession(validated);
    expect(proto.factors).toEqual([1, 2]);
    expect(proto.assuranceLevel).toBe(2);
  });

  it('takes a recovery code instead: factors [PASSWORD, RECOVERY_CODE]', async () => {
    const { complete } = await challenged();
    const { session } = await complete({ factor: { kind: 'RECOVERY_CODE', code: RECOVERY } });
    expect(session.factors).toEqual(['PASSWORD', 'RECOVERY_CODE']);
    expect(session.assuranceLevel).toBe('AAL2');
  });

  it('leaves a password-only sign-in at [PASSWORD] / AAL1', async () => {
    const { app } = withAda(testApp());
    const started = await startSession(app, {}, ctx);
    expect(started).toMatchObject({ session: { factors: ['PASSWORD'], assuranceLevel: 'AAL1' } });
  });

  it('refuses a wrong code with INVALID_SECOND_FACTOR and counts the attempt', async () => {
    const { app, challenge, complete } = await challenged();
    const error = await failureOf(complete({ factor: { kind: 'TOTP', code: '000000' } }));
    expect([error?.kind, error?.reason]).toEqual(['UNAUTHENTICATED', 'INVALID_SECOND_FACTOR']);
    expect(app.challenges.challenges.get(hashChallengeId(challenge.id))?.attempts).toBe(1);
    expect(app.sessions.sessions.size).toBe(0);
    // The right code still works within the attempts.
    await expect(complete()).resolves.toMatchObject({ session: { assuranceLevel: 'AAL2' } });
  });

  it('spends the challenge after 5 attempts: even the right code is then refused', async () => {
    const { app, complete } = await challenged();
    for (let i = 0; i < 5; i++) {
      const error = await failureOf(complete({ factor: { kind: 'TOTP', code: '000000' } }));
      expect(error?.reason).toBe('INVALID_SECOND_FACTOR');
    }
    const error = await failureOf(complete());
    expect([error?.kind, error?.reason]).toEqual(['UNAUTHENTICATED', 'MFA_CHALLENGE_NOT_FOUND']);
    // user-service was not asked a sixth time.
    expect(app.credentials.secondFactors.calls).toHaveLength(5);
  });

  it('refuses an expired challenge without asking user-service', async () => {
    const { app, complete } = await challenged();
    app.clock.advance(5 * MINUTE);
    const error = await failureOf(complete());
    expect(error?.reason).toBe('MFA_CHALLENGE_NOT_FOUND');
    expect(app.credentials.secondFactors.calls).toHaveLength(0);
  });

  it('works once: the challenge is consumed by the session it made', async () => {
    const { app, complete } = await challenged();
    await complete();
    const error = await failureOf(complete({ factor: { kind: 'TOTP', code: OTHER_TOTP } }));
    expect(error?.reason).toBe('MFA_CHALLENGE_NOT_FOUND');
    expect(app.sessions.sessions.size).toBe(1);
  });

  it('gives two right codes racing on one challenge one session', async () => {
    const { app, complete } = await challenged();
    const results = await Promise.allSettled([
      complete(),
      complete({ factor: { kind: 'TOTP', code: OTHER_TOTP } }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(app.sessions.sessions.size).toBe(1);
  });

  it('answers an unknown challenge like a spent one', async () => {
    const { complete } = await challenged();
    const error = await failureOf(complete({ challengeId: `wmc_${'A'.repeat(43)}` }));
    expect(error?.reason).toBe('MFA_CHALLENGE_NOT_FOUND');
  });

  it('replays a request_id: the same session and token, even after the challenge is gone', async () => {
    const { app, complete } = await challenged();
    const first = await complete({ requestId: 'mfa-1' });
    const again = await complete({ requestId: 'mfa-1' });
    expect(again.session.id).toBe(first.session.id);
    expect(again.token).toBe(first.token);
    expect(app.sessions.sessions.size).toBe(1);
    expect(app.credentials.secondFactors.calls).toHaveLength(1);
  });

  it('refuses a replay once the session it made has ended: REPLAY_OUTDATED, no dead token', async () => {
    const { app, complete } = await challenged();
    const first = await complete({ requestId: 'mfa-1' });
    await app.sessions.update(first.session.id, (s) => ({
      session: end(s, 'LOGOUT', app.clock.now())!,
      event: 'ended',
    }));
    const error = await failureOf(complete({ requestId: 'mfa-1' }));
    expect([error?.kind, error?.reason]).toEqual(['FAILED_PRECONDITION', 'REPLAY_OUTDATED']);
  });

  it('answers a retry after the first attempt died past its commit with that session, under a new token', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const dying = dyingAfterCommit(new MemoryIdempotencyStore());
      const { app, complete } = await challenged(testApp({ idempotencyStore: dying.store }));
      void complete({ requestId: 'mfa-k' }); // never answers: the process is gone
      await dying.killed;
      const orphan = [...app.sessions.sessions.values()][0]!;
      app.clock.advance(11_000); // past the pending record's takeover time (the challenge is spent)
      const retried = await complete({ requestId: 'mfa-k' });
      expect(retried.session).toMatchObject({ id: orphan.id, assuranceLevel: 'AAL2' });
      expect(hashToken(retried.token)).not.toBe(orphan.tokenHash);
      expect(app.sessions.sessions.size).toBe(1);
      await expect(
        app.bus.run(app.useCases.validateSession, { token: retried.token }, ctx),
      ).resolves.toMatchObject({ id: orphan.id });
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves the challenge for a retry when the process dies before the session is saved', async () => {
    // The write that would save the session (and spend the challenge) never happens: the process
    // died after user-service accepted the code. Before, the challenge was spent by then.
    class DyingOnce extends MemorySessionRepository {
      dead = false;
      override updateUserSessions(
        ...args: Parameters<MemorySessionRepository['updateUserSessions']>
      ) {
        if (!this.dead && args[2]?.consumeChallenge !== undefined) {
          this.dead = true;
          return Promise.reject(new Error('process killed before COMMIT'));
        }
        return super.updateUserSessions(...args);
      }
    }
    const app = testApp({ sessions: (c: MemoryMfaChallengeStore) => new DyingOnce(c) });
    const { challenge, complete } = await challenged(app);
    await expect(complete({ requestId: 'mfa-d' })).rejects.toThrow();
    expect(app.sessions.sessions.size).toBe(0);
    expect(app.challenges.challenges.get(hashChallengeId(challenge.id))?.attempts).toBe(1);
    // The same code was spent by user-service (a replay now); the next one completes the
    // sign-in on the same challenge, under the same request_id.
    const again = await failureOf(complete({ requestId: 'mfa-d' }));
    expect(again?.reason).toBe('INVALID_SECOND_FACTOR');
    const retried = await complete({
      requestId: 'mfa-d',
      factor: { kind: 'TOTP', code: OTHER_TOTP },
    });
    expect(retried.session).toMatchObject({
      assuranceLevel: 'AAL2',
      factors: ['PASSWORD', 'TOTP'],
    });
    expect(app.sessions.sessions.size).toBe(1);
    expect(app.challenges.challenges.size).toBe(0);
  });

  it('reports malformed input as INVALID_ARGUMENT before touching the challenge', async () => {
    const { app, challenge, complete } = await challenged();
    const bad = await failureOf(
      complete({ challengeId: 'nope', factor: { kind: 'TOTP', code: '12ab' } }),
    );
    expect(bad?.kind).toBe('INVALID_ARGUMENT');
    expect(bad?.violations.map((v) => v.field)).toEqual(['challenge_id', 'totp_code']);
    const none = await failureOf(complete({ factor: undefined }));
    expect(none?.violations.map((v) => v.field)).toEqual(['second_factor']);
    const long = await failureOf(
      complete({ factor: { kind: 'RECOVERY_CODE', code: 'x'.repeat(65) } }),
    );
    expect(long?.violations.map((v) => v.field)).toEqual(['recovery_code']);
    expect(app.challenges.challenges.get(hashChallengeId(challenge.id))?.attempts).toBe(0);
  });

  it('answers UNAVAILABLE when user-service cannot check the code', async () => {
    const { app, complete } = await challenged();
    app.credentials.unavailable = true;
    const error = await failureOf(complete());
    expect([error?.kind, error?.reason]).toEqual(['UNAVAILABLE', 'USER_SERVICE_UNAVAILABLE']);
  });
});
