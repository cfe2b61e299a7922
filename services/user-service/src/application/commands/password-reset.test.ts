import { describe, expect, it } from 'vitest';
import { aCallContext, aUser, CORRECT_PASSWORD } from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { fakeHashOf } from '../../../test/support/fakes.js';
import { aTestApp } from '../../../test/support/test-app.js';
import { CODE_TTL_MS, MAX_CODE_ATTEMPTS } from '../../domain/one-time-code.js';

const NEW_PASSWORD = 'a fresh start 2026';

async function setup() {
  const app = aTestApp({ notifiers: ['gateway'], breached: ['password123'] });
  const user = aUser({ email: 'forgetful@example.com' });
  await app.given(user);
  const request = (email = user.email, ctx = aCallContext()) =>
    app.bus.run(app.useCases.requestPasswordReset, { email }, ctx);
  const reset = (code: string, newPassword = NEW_PASSWORD, email = user.email) =>
    app.bus.run(app.useCases.resetPassword, { email, code, newPassword }, aCallContext());
  const signIn = (password: string) =>
    app.bus.run(
      app.useCases.verifyCredentials,
      { email: user.email, password },
      aCallContext({ service: { name: 'session-service' } }),
    );
  return { app, user, request, reset, signIn };
}

describe('RequestPasswordReset and ResetPassword', () => {
  it('resets the password with the code: argon2id hash stored, every session ends (reason RESET)', async () => {
    const { app, user, request, reset, signIn } = await setup();
    const { code, expireTime } = await request(' Forgetful@Example.com ');
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expireTime).toEqual(new Date(app.clock.now().getTime() + CODE_TTL_MS.PASSWORD_RESET));
    await reset(code);
    expect((await app.users.get(user.id))?.passwordHash).toBe(fakeHashOf(NEW_PASSWORD));
    expect(app.users.eventsOfType('password_changed')).toEqual([
      {
        type: 'password_changed',
        userId: user.id,
        exceptSessionId: '',
        reason: 'RESET',
        occurTime: app.clock.now(),
      },
    ]);
    expect(JSON.stringify(app.users.outbox)).not.toContain(code);
    await expect(signIn(NEW_PASSWORD)).resolves.toMatchObject({ userId: user.id });
    await expectAppError(signIn(CORRECT_PASSWORD), 'UNAUTHENTICATED', 'INVALID_CREDENTIALS');
  });

  it('answers an unknown or disabled email exactly like a known one, with an empty code and no error', async () => {
    const { app, request } = await setup();
    const disabled = aUser({ email: 'gone@example.com', status: 'DISABLED' });
    await app.given(disabled);
    const known = await request();
    const unknown = await request('nobody@example.com');
    const ofDisabled = await request(disabled.email);
    expect(unknown).toEqual({ code: '', expireTime: known.expireTime });
    expect(ofDisabled).toEqual({ code: '', expireTime: known.expireTime });
    expect(app.codeStore.codes.size).toBe(1);
  });

  it('is for the notifier services only', async () => {
    const { request } = await setup();
    await expectAppError(
      request(undefined, aCallContext({ service: { name: 'session-service' } })),
      'PERMISSION_DENIED',
    );
  });

  it('works once: a reused code is INVALID_CODE', async () => {
    const { request, reset } = await setup();
    const { code } = await request();
    await reset(code);
    await expectAppError(reset(code, 'another one 2026'), 'INVALID_ARGUMENT', 'INVALID_CODE');
  });

  it('refuses an expired code (30 min) as INVALID_CODE', async () => {
    const { app, request, reset } = await setup();
    const { code } = await request();
    app.clock.advance(CODE_TTL_MS.PASSWORD_RESET);
    await expectAppError(reset(code), 'INVALID_ARGUMENT', 'INVALID_CODE');
  });

  it('burns the code after 5 wrong attempts', async () => {
    const { app, user, request, reset } = await setup();
    const { code } = await request();
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i++)
      await expectAppError(reset(`wrong-${i}`), 'INVALID_ARGUMENT', 'INVALID_CODE');
    await expectAppError(reset(code), 'INVALID_ARGUMENT', 'INVALID_CODE');
    expect((await app.users.get(user.id))?.passwordHash).toBe(user.passwordHash);
    expect(app.users.eventsOfType('password_changed')).toEqual([]);
  });

  it('answers an unknown email like a wrong code', async () => {
    const { request, reset } = await setup();
    const { code } = await request();
    await expectAppError(
      reset(code, NEW_PASSWORD, 'nobody@example.com'),
      'INVALID_ARGUMENT',
      'INVALID_CODE',
    );
  });

  it('refuses a weak or breached new password and keeps the code usable', async () => {
    const { request, reset } = await setup();
    const { code } = await request();
    await expectAppError(reset(code, 'short'), 'INVALID_ARGUMENT', 'WEAK_PASSWORD');
    await expectAppError(reset(code, 'password123'), 'INVALID_ARGUMENT', 'PASSWORD_BREACHED');
    await reset(code);
  });

  it('replaces an earlier code with a new one', async () => {
    const { request, reset } = await setup();
    const first = await request();
    const second = await request();
    await expectAppError(reset(first.code), 'INVALID_ARGUMENT', 'INVALID_CODE');
    await reset(second.code);
  });

  it('lifts a lockout: the owner of the mailbox can sign in at once', async () => {
    const { request, reset, signIn } = await setup();
    for (let i = 0; i < 5; i++)
      await expectAppError(signIn(`guess ${i} wrong`), 'UNAUTHENTICATED', 'INVALID_CREDENTIALS');
    await expectAppError(signIn(NEW_PASSWORD), 'RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED');
    await reset((await request()).code);
    await expect(signIn(NEW_PASSWORD)).resolves.toBeDefined();
  });

  it('refuses empty fields as INVALID_ARGUMENT before looking anything up', async () => {
    const { reset, request } = await setup();
    const error = await expectAppError(
      reset('', NEW_PASSWORD, ''),
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
    );
    expect(error.violations.map((v) => v.field).sort()).toEqual(['code', 'email']);
    await expectAppError(request(''), 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
  });
});
