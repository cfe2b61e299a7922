import { randomUUID } from 'node:crypto';
import { authzv1, sessionv1, userv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, codeOf, failure, PASSWORD, register, signIn } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

// One user's whole account journey over real processes, Postgres and NATS, on one stack:
// register -> verify email -> enrol TOTP -> step-up sign-in -> AAL2 -> reset -> every session ends.
// The stack's clients carry the gateway's key, and the gateway is the notifier
// (auth.notifier_services defaults to [gateway]), so one-time codes come back to these calls.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(() => stack?.stop(), 60_000);

const NEW_PASSWORD = 'journey reset 2026 passphrase';

const users = <Req, Res>(rpc: string, request: Req, token?: string) =>
  call<Req, Res>(stack.users, rpc, request, token);
const sessions = <Req, Res>(rpc: string, request: Req, token?: string) =>
  call<Req, Res>(stack.sessions, rpc, request, token);

const startSession = (email: string, password: string) =>
  sessions<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>('startSession', {
    email,
    password,
    client: { ipAddress: '127.0.0.1', userAgent: 'e2e-journey' },
    requestId: randomUUID(),
  });

const completeMfa = (
  challengeId: string,
  factor: { totpCode: string } | { recoveryCode: string },
) =>
  sessions<sessionv1.CompleteMfaRequest, sessionv1.CompleteMfaResponse>('completeMfa', {
    challengeId,
    ...factor,
    requestId: randomUUID(),
  });

/** ValidateSession as the gateway asks it, with no user token of its own. */
const validate = (token: string) =>
  sessions<sessionv1.ValidateSessionRequest, sessionv1.ValidateSessionResponse>('validateSession', {
    token,
  });

const removeMfaAt = (userId: string, assuranceLevel: authzv1.AssuranceLevel) =>
  call<authzv1.CheckPermissionRequest, authzv1.CheckPermissionResponse>(
    stack.authz,
    'checkPermission',
    {
      subjectId: userId,
      permission: 'user.remove_mfa',
      resource: { type: 'user', id: userId, ownerId: userId },
      assuranceLevel,
    },
  );

describe('one account, end to end', () => {
  it('registers, verifies, enrols TOTP, steps up to AAL2, resets, and every session ends', async () => {
    const email = `journey-${stack.prefix}@example.com`;

    // Register: unverified, no second factor.
    const user = await register(stack, email);
    expect(user).toMatchObject({ email, emailVerified: false, mfaEnabled: false });
    const mine: authzv1.Resource = { type: 'user', id: user.id, ownerId: user.id };

    // Verify the email with the code handed to the notifier (the gateway).
    const issued = await users<
      userv1.RequestEmailVerificationRequest,
      userv1.RequestEmailVerificationResponse
    >('requestEmailVerification', { userId: user.id });
    expect(issued.code).not.toBe('');
    await users<userv1.VerifyEmailRequest, userv1.VerifyEmailResponse>('verifyEmail', {
      userId: user.id,
      code: issued.code,
    });

    // The default role (player) arrives through the registered event; then an AAL1 session.
    await waitFor(async () => (await check(stack, user.id, 'user.manage_mfa', mine)).allowed, {
      timeoutMs: 15_000,
      what: 'the player role',
    });
    const aal1 = await signIn(stack, email);
    expect(aal1.session).toMatchObject({
      userId: user.id,
      factors: [sessionv1.Factor.FACTOR_PASSWORD],
      assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
    });
    const verified = await users<userv1.GetUserRequest, userv1.GetUserResponse>(
      'getUser',
      { userId: user.id },
      aal1.token,
    );
    expect(verified.user).toMatchObject({ id: user.id, emailVerified: true, mfaEnabled: false });

    // Enrol and confirm TOTP with the user's own AAL1 session.
    const enrolment = await users<userv1.EnrollTotpRequest, userv1.EnrollTotpResponse>(
      'enrollTotp',
      { userId: user.id },
      aal1.token,
    );
    expect(enrolment.otpauthUri).toContain(`secret=${enrolment.secret}`);
    const { recoveryCodes } = await users<userv1.ConfirmTotpRequest, userv1.ConfirmTotpResponse>(
      'confirmTotp',
      { userId: user.id, code: codeOf(enrolment.secret) },
      aal1.token,
    );
    expect(recoveryCodes).toHaveLength(10);
    const enrolled = await users<userv1.GetUserRequest, userv1.GetUserResponse>(
      'getUser',
      { userId: user.id },
      aal1.token,
    );
    expect(enrolled.user).toMatchObject({ emailVerified: true, mfaEnabled: true });

    // The password alone now gets a challenge: no session, no token.
    const started = await startSession(email, PASSWORD);
    expect(started.session).toBeUndefined();
    expect(started.token).toBe('');
    expect(started.mfaChallenge?.id).toMatch(/^wmc_/);

    // The confirming code's step is spent (replay), so complete with the next step's code,
    // which the server's drift window accepts.
    const completed = await completeMfa(started.mfaChallenge!.id, {
      totpCode: codeOf(enrolment.secret, 1),
    });
    expect(completed.token).toMatch(/^wst_/);

    // The gateway's view of the new session: both factors, AAL2.
    const validated = await validate(completed.token);
    expect(validated.session).toMatchObject({
      id: completed.session!.id,
      userId: user.id,
      factors: [sessionv1.Factor.FACTOR_PASSWORD, sessionv1.Factor.FACTOR_TOTP],
      assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2,
    });
    // The earlier session is still alive and still only AAL1.
    const stillAal1 = await validate(aal1.token);
    expect(stillAal1.session).toMatchObject({
      id: aal1.session.id,
      assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
    });

    // An @aal2 grant: the AAL1 level is asked to step up, the AAL2 level is allowed.
    expect(await removeMfaAt(user.id, authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1)).toMatchObject({
      allowed: false,
      stepUpRequired: true,
    });
    expect(await removeMfaAt(user.id, authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2)).toMatchObject({
      allowed: true,
    });

    // Reset the password with the code handed to the notifier.
    const reset = await users<
      userv1.RequestPasswordResetRequest,
      userv1.RequestPasswordResetResponse
    >('requestPasswordReset', { email });
    expect(reset.code).not.toBe('');
    await users<userv1.ResetPasswordRequest, userv1.ResetPasswordResponse>('resetPassword', {
      email,
      code: reset.code,
      newPassword: NEW_PASSWORD,
    });

    // session-service ends every session of the user on password_changed: the AAL2 one and
    // the earlier AAL1 one alike.
    for (const token of [completed.token, aal1.token]) {
      await waitFor(
        async () => {
          const error = await failure(validate(token)).catch(() => undefined);
          return error?.reason === 'SESSION_ENDED';
        },
        { timeoutMs: 15_000, what: 'the reset to end the session' },
      );
    }

    // The old password is refused; the new one gets a challenge again (MFA survives a reset),
    // which one of the recovery codes shown at confirmation completes.
    const old = await failure(startSession(email, PASSWORD));
    expect([old.kind, old.reason]).toEqual(['UNAUTHENTICATED', 'INVALID_CREDENTIALS']);
    const again = await startSession(email, NEW_PASSWORD);
    expect(again.session).toBeUndefined();
    expect(again.token).toBe('');
    expect(again.mfaChallenge?.id).toMatch(/^wmc_/);
    const recovered = await completeMfa(again.mfaChallenge!.id, {
      recoveryCode: recoveryCodes[0]!,
    });
    expect(recovered.token).toMatch(/^wst_/);
    const after = await validate(recovered.token);
    expect(after.session).toMatchObject({
      userId: user.id,
      factors: [sessionv1.Factor.FACTOR_PASSWORD, sessionv1.Factor.FACTOR_RECOVERY_CODE],
      assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2,
    });
    // The user may read both ended sessions: each was ended by the password change.
    for (const sessionId of [aal1.session.id, completed.session!.id]) {
      const ended = await sessions<sessionv1.GetSessionRequest, sessionv1.GetSessionResponse>(
        'getSession',
        { sessionId },
        recovered.token,
      );
      expect(ended.session?.endReason).toBe(
        sessionv1.SessionEndReason.SESSION_END_REASON_PASSWORD_CHANGED,
      );
    }
    const stillEnrolled = await users<userv1.GetUserRequest, userv1.GetUserResponse>(
      'getUser',
      { userId: user.id },
      recovered.token,
    );
    expect(stillEnrolled.user).toMatchObject({ emailVerified: true, mfaEnabled: true });
  });
});
