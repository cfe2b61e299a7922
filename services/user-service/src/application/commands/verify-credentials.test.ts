import type { AppError } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import {
  aCallContext,
  aUser,
  CORRECT_PASSWORD,
  sessionServiceContext,
} from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aTestApp } from '../../../test/support/test-app.js';
import type { VerifyCredentials } from './verify-credentials.js';

const verify = (
  app: ReturnType<typeof aTestApp>,
  cmd: VerifyCredentials,
  ctx = sessionServiceContext(),
) => app.bus.run(app.useCases.verifyCredentials, cmd, ctx);

describe('VerifyCredentials', () => {
  it('returns the user id and status for correct credentials, email as typed', async () => {
    const app = aTestApp();
    const user = aUser({ email: 'ada@example.com' });
    await app.given(user);
    await expect(
      verify(app, { email: ' ADA@example.com', password: CORRECT_PASSWORD }),
    ).resolves.toEqual({ userId: user.id, status: 'ACTIVE', mfaEnabled: false });
  });

  it('verifies a disabled user too and reports the status, for the caller to decide', async () => {
    const app = aTestApp();
    const user = aUser({ status: 'DISABLED' });
    await app.given(user);
    await expect(verify(app, { email: user.email, password: CORRECT_PASSWORD })).resolves.toEqual({
      userId: user.id,
      status: 'DISABLED',
      mfaEnabled: false,
    });
  });

  it('answers a wrong password and an unknown email alike, both after one password verification', async () => {
    const app = aTestApp();
    const user = aUser();
    await app.given(user);
    await expectAppError(
      verify(app, { email: user.email, password: 'wrong password' }),
      'UNAUTHENTICATED',
      'INVALID_CREDENTIALS',
    );
    await expectAppError(
      verify(app, { email: 'nobody@example.com', password: 'wrong password' }),
      'UNAUTHENTICATED',
      'INVALID_CREDENTIALS',
    );
    expect(app.hasher.verifications).toBe(2);
    expect(app.hasher.dummyVerifications).toBe(1);
  });

  it('locks an email after 5 failures in the window, even for the right password, with the time left', async () => {
    const app = aTestApp();
    const user = aUser();
    await app.given(user);
    for (let i = 0; i < 5; i++) {
      app.clock.advance(60_000);
      await expectAppError(
        verify(app, { email: user.email, password: 'wrong password' }),
        'UNAUTHENTICATED',
        'INVALID_CREDENTIALS',
      );
    }
    const locked = await expectAppError(
      verify(app, { email: user.email, password: CORRECT_PASSWORD }),
      'RESOURCE_EXHAUSTED',
      'ACCOUNT_LOCKED',
    );
    // Failures began 1 min after the start; the 15 min window then runs 10 more minutes.
    expect(locked.metadata).toEqual({ retry_after_seconds: String(11 * 60) });

    app.clock.advance(11 * 60_000);
    await expect(
      verify(app, { email: user.email, password: CORRECT_PASSWORD }),
    ).resolves.toMatchObject({ userId: user.id });
  });

  it('counts failures for unknown emails the same way, so a lock reveals nothing', async () => {
    const app = aTestApp({ lockout: { maxFailures: 2, windowMs: 60_000 } });
    const attempt = () => verify(app, { email: 'ghost@example.com', password: 'guess guess' });
    await expectAppError(attempt(), 'UNAUTHENTICATED', 'INVALID_CREDENTIALS');
    await expectAppError(attempt(), 'UNAUTHENTICATED', 'INVALID_CREDENTIALS');
    await expectAppError(attempt(), 'RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED');
    // Operators see refusals, not the failures before them.
    expect(app.lockouts.count).toBe(1);
  });

  it('forgets earlier failures after a success', async () => {
    const app = aTestApp({ lockout: { maxFailures: 2, windowMs: 60_000 } });
    const user = aUser();
    await app.given(user);
    await expectAppError(
      verify(app, { email: user.email, password: 'wrong password' }),
      'UNAUTHENTICATED',
    );
    await verify(app, { email: user.email, password: CORRECT_PASSWORD });
    expect(await app.loginFailures.get(user.email)).toBeUndefined();
    await expectAppError(
      verify(app, { email: user.email, password: 'wrong password' }),
      'UNAUTHENTICATED',
      'INVALID_CREDENTIALS',
    );
  });

  it('lets no more than maxFailures of concurrent guesses reach the password check', async () => {
    const app = aTestApp({ lockout: { maxFailures: 3, windowMs: 60_000 } });
    const user = aUser();
    await app.given(user);
    const guesses = Array.from({ length: 12 }, (_, i) =>
      i === 9 ? CORRECT_PASSWORD : `wrong ${i}`,
    );
    const outcomes = await Promise.all(
      guesses.map((password) =>
        verify(app, { email: user.email, password }).then(
          () => 'VERIFIED',
          (error: unknown) => (error as AppError).reason,
        ),
      ),
    );
    expect(app.hasher.verifications).toBe(3);
    expect(outcomes.slice(0, 3)).toEqual(Array(3).fill('INVALID_CREDENTIALS'));
    expect(outcomes.slice(3)).toEqual(Array(9).fill('ACCOUNT_LOCKED'));
    await expectAppError(
      verify(app, { email: user.email, password: CORRECT_PASSWORD }),
      'RESOURCE_EXHAUSTED',
      'ACCOUNT_LOCKED',
    );
    expect(app.hasher.verifications).toBe(3);
  });

  it('takes slots for concurrent guesses at an unknown email the same way', async () => {
    const app = aTestApp({ lockout: { maxFailures: 3, windowMs: 60_000 } });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        verify(app, { email: 'ghost@example.com', password: 'guess guess' }).catch(
          (error: unknown) => (error as AppError).reason,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'INVALID_CREDENTIALS')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'ACCOUNT_LOCKED')).toHaveLength(5);
    expect(app.hasher.dummyVerifications).toBe(3);
  });

  it('counts the slot of a check that failed to run, and keeps it', async () => {
    const app = aTestApp({ lockout: { maxFailures: 2, windowMs: 60_000 } });
    const user = aUser();
    await app.given(user);
    app.hasher.failNext(new Error('thread pool gone'));
    await expect(verify(app, { email: user.email, password: CORRECT_PASSWORD })).rejects.toThrow(
      'thread pool gone',
    );
    expect((await app.loginFailures.get(user.email))?.failureCount).toBe(1);
  });

  it('is for session-service only', async () => {
    const app = aTestApp();
    await expectAppError(
      verify(app, { email: 'a@example.com', password: 'whatever1' }, aCallContext()),
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
    );
  });

  it('refuses empty and absurdly long fields before looking anything up', async () => {
    const app = aTestApp();
    const empty = await expectAppError(
      verify(app, { email: ' ', password: '' }),
      'INVALID_ARGUMENT',
    );
    expect(empty.violations.map((v) => v.field)).toEqual(['email', 'password']);
    await expectAppError(
      verify(app, { email: `${'a'.repeat(300)}@example.com`, password: 'x'.repeat(10_000) }),
      'INVALID_ARGUMENT',
    );
    expect(app.hasher.verifications).toBe(0);
  });
});
