import { describe, expect, it } from 'vitest';
import { aCallContext, aUser } from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aTestApp } from '../../../test/support/test-app.js';
import { CODE_TTL_MS, MAX_CODE_ATTEMPTS } from '../../domain/one-time-code.js';

const notifier = () => aCallContext({ service: { name: 'gateway' } });

async function setup() {
  const app = aTestApp({ notifiers: ['gateway'] });
  const user = aUser();
  await app.given(user);
  const request = (userId = user.id, ctx = notifier()) =>
    app.bus.run(app.useCases.requestEmailVerification, { userId }, ctx);
  const verify = (code: string, userId = user.id) =>
    app.bus.run(app.useCases.verifyEmail, { userId, code }, aCallContext());
  return { app, user, request, verify };
}

describe('RequestEmailVerification and VerifyEmail', () => {
  it('hands a 24 h code to the notifier, keeps only its hash, and verifies the email once with an event', async () => {
    const { app, user, request, verify } = await setup();
    const issued = await request();
    expect(issued.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued.expireTime).toEqual(
      new Date(app.clock.now().getTime() + CODE_TTL_MS.EMAIL_VERIFICATION),
    );
    const stored = [...app.codeStore.codes.values()];
    expect(stored).toHaveLength(1);
    expect(Buffer.from(stored[0]!.codeHash).toString('utf8')).not.toContain(issued.code);
    expect(JSON.stringify(app.users.outbox)).not.toContain(issued.code);

    const verified = await verify(issued.code);
    expect(verified.emailVerified).toBe(true);
    expect(app.users.eventsOfType('email_verified')).toEqual([
      { type: 'email_verified', userId: user.id, occurTime: app.clock.now() },
    ]);
    expect(app.codeStore.codes.size).toBe(0);
  });

  it('is for the notifier services only', async () => {
    const { request } = await setup();
    await expectAppError(
      request(undefined, aCallContext({ service: { name: 'session-service' } })),
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
    );
  });

  it('refuses a reused code after success, without a second event', async () => {
    const { app, request, verify } = await setup();
    const { code } = await request();
    await verify(code);
    // Verified already: the same code returns the user unchanged and says nothing new.
    expect((await verify(code)).emailVerified).toBe(true);
    expect(app.users.eventsOfType('email_verified')).toHaveLength(1);
    await expectAppError(request(), 'FAILED_PRECONDITION', 'EMAIL_ALREADY_VERIFIED');
  });

  it('refuses a wrong code with INVALID_CODE and a violation on code', async () => {
    const { request, verify } = await setup();
    await request();
    const error = await expectAppError(verify('not-the-code'), 'INVALID_ARGUMENT', 'INVALID_CODE');
    expect(error.violations.map((v) => v.field)).toEqual(['code']);
  });

  it('refuses an expired code with CODE_EXPIRED, and then has none', async () => {
    const { app, request, verify } = await setup();
    const { code } = await request();
    app.clock.advance(CODE_TTL_MS.EMAIL_VERIFICATION);
    await expectAppError(verify(code), 'INVALID_ARGUMENT', 'CODE_EXPIRED');
    await expectAppError(verify(code), 'INVALID_ARGUMENT', 'INVALID_CODE');
  });

  it('burns the code after 5 wrong attempts: the right one then fails too', async () => {
    const { app, request, verify } = await setup();
    const { code } = await request();
    for (let i = 0; i < MAX_CODE_ATTEMPTS; i++)
      await expectAppError(verify(`wrong-${i}`), 'INVALID_ARGUMENT', 'INVALID_CODE');
    await expectAppError(verify(code), 'INVALID_ARGUMENT', 'INVALID_CODE');
    expect(app.users.eventsOfType('email_verified')).toEqual([]);
  });

  it('lets the right code through after 4 wrong ones', async () => {
    const { request, verify } = await setup();
    const { code } = await request();
    for (let i = 0; i < MAX_CODE_ATTEMPTS - 1; i++)
      await expectAppError(verify(`wrong-${i}`), 'INVALID_ARGUMENT', 'INVALID_CODE');
    expect((await verify(code)).emailVerified).toBe(true);
  });

  it('replaces the old code with a new one', async () => {
    const { request, verify } = await setup();
    const first = await request();
    const second = await request();
    expect(second.code).not.toBe(first.code);
    await expectAppError(verify(first.code), 'INVALID_ARGUMENT', 'INVALID_CODE');
    expect((await verify(second.code)).emailVerified).toBe(true);
  });

  it('answers NOT_FOUND for an unknown user, INVALID_CODE without a code, ACCOUNT_DISABLED for a disabled one', async () => {
    const { app, request, verify } = await setup();
    const unknown = aUser().id;
    await expectAppError(request(unknown), 'NOT_FOUND', 'USER_NOT_FOUND');
    await expectAppError(verify('x', unknown), 'NOT_FOUND', 'USER_NOT_FOUND');
    await expectAppError(verify('never-issued'), 'INVALID_ARGUMENT', 'INVALID_CODE');
    const disabled = aUser({ status: 'DISABLED' });
    await app.given(disabled);
    await expectAppError(request(disabled.id), 'PERMISSION_DENIED', 'ACCOUNT_DISABLED');
  });

  it('refuses an empty or absurd code and a malformed user id as INVALID_ARGUMENT', async () => {
    const { verify, user } = await setup();
    await expectAppError(verify(''), 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    await expectAppError(verify('x'.repeat(500)), 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    await expectAppError(verify('x', 'not-a-uuid'), 'INVALID_ARGUMENT');
    expect(user.emailVerified).toBe(false);
  });
});
