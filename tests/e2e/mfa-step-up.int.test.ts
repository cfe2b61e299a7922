import { randomUUID } from 'node:crypto';
import { authzv1, sessionv1, userv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootstrapAdmin,
  check,
  codeOf,
  failure,
  PASSWORD,
  register,
  signIn,
} from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

// Step-up over real processes, Postgres and NATS: a player turns TOTP on, signs in with a
// challenge and a code, and only that AAL2 session may do what a `@aal2` grant allows.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(() => stack?.stop(), 60_000);

const users = <Req, Res>(rpc: string, request: Req, token?: string) =>
  call<Req, Res>(stack.users, rpc, request, token);
const sessions = <Req, Res>(rpc: string, request: Req, token?: string) =>
  call<Req, Res>(stack.sessions, rpc, request, token);

const startSession = (email: string) =>
  sessions<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>('startSession', {
    email,
    password: PASSWORD,
    client: { ipAddress: '127.0.0.1', userAgent: 'e2e-mfa' },
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

describe('register -> enrol TOTP -> confirm -> challenge -> CompleteMfa -> AAL2 step-up', () => {
  it('signs in with a second factor and lets only the AAL2 session use an @aal2 grant', async () => {
    const email = `mfa-${stack.prefix}@example.com`;
    const user = await register(stack, email);
    const mine: authzv1.Resource = { type: 'user', id: user.id, ownerId: user.id };
    // The default role (player) arrives through the registered event.
    await waitFor(async () => (await check(stack, user.id, 'user.manage_mfa', mine)).allowed, {
      timeoutMs: 15_000,
      what: 'the player role',
    });
    const aal1 = await signIn(stack, email);
    expect(aal1.session).toMatchObject({
      factors: [sessionv1.Factor.FACTOR_PASSWORD],
      assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
    });

    // Enrol and confirm with the player's own (AAL1) session.
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
    const got = await users<userv1.GetUserRequest, userv1.GetUserResponse>(
      'getUser',
      { userId: user.id },
      aal1.token,
    );
    expect(got.user?.mfaEnabled).toBe(true);

    // The password alone now gets a challenge, no session and no token.
    const started = await startSession(email);
    expect(started.session).toBeUndefined();
    expect(started.token).toBe('');
    expect(started.mfaChallenge?.id).toMatch(/^wmc_/);
    expect(started.mfaChallenge!.expireTime!.getTime()).toBeGreaterThan(Date.now());

    // A wrong code is refused and counted; the next step's code (clock drift allowed) completes.
    const wrong = await failure(completeMfa(started.mfaChallenge!.id, { totpCode: '000000' }));
    expect([wrong.kind, wrong.reason]).toEqual(['UNAUTHENTICATED', 'INVALID_SECOND_FACTOR']);
    const code = codeOf(enrolment.secret, 1);
    const completed = await completeMfa(started.mfaChallenge!.id, { totpCode: code });
    expect(completed.token).toMatch(/^wst_/);

    const validated = await sessions<
      sessionv1.ValidateSessionRequest,
      sessionv1.ValidateSessionResponse
    >('validateSession', { token: completed.token });
    expect(validated.session).toMatchObject({
      id: completed.session!.id,
      userId: user.id,
      factors: [sessionv1.Factor.FACTOR_PASSWORD, sessionv1.Factor.FACTOR_TOTP],
      assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2,
    });
    const got2 = await sessions<sessionv1.GetSessionRequest, sessionv1.GetSessionResponse>(
      'getSession',
      { sessionId: completed.session!.id },
      completed.token,
    );
    expect(got2.session?.assuranceLevel).toBe(sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2);

    // The challenge is spent, and the same code on a new challenge is a replay.
    const spent = await failure(completeMfa(started.mfaChallenge!.id, { totpCode: code }));
    expect(spent.reason).toBe('MFA_CHALLENGE_NOT_FOUND');
    const again = await startSession(email);
    const replay = await failure(completeMfa(again.mfaChallenge!.id, { totpCode: code }));
    expect(replay.reason).toBe('INVALID_SECOND_FACTOR');

    // RemoveTotp needs user.remove_mfa:own@aal2: the AAL1 session is asked to step up...
    const refused = await failure(
      users('removeTotp', { userId: user.id, code: recoveryCodes[0]! }, aal1.token),
    );
    expect([refused.kind, refused.reason]).toEqual(['PERMISSION_DENIED', 'STEP_UP_REQUIRED']);
    // ...and authz answers the same to a direct check at each level.
    const atAal1 = await call<authzv1.CheckPermissionRequest, authzv1.CheckPermissionResponse>(
      stack.authz,
      'checkPermission',
      {
        subjectId: user.id,
        permission: 'user.remove_mfa',
        resource: mine,
        assuranceLevel: authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
      },
    );
    expect(atAal1).toMatchObject({ allowed: false, stepUpRequired: true });

    // The AAL2 session may, with a recovery code as proof; the factor is then off.
    await users('removeTotp', { userId: user.id, code: recoveryCodes[0]! }, completed.token);
    const after = await users<userv1.GetUserRequest, userv1.GetUserResponse>(
      'getUser',
      { userId: user.id },
      completed.token,
    );
    expect(after.user?.mfaEnabled).toBe(false);
    const plain = await startSession(email);
    expect(plain.mfaChallenge).toBeUndefined();
    expect(plain.session?.assuranceLevel).toBe(sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1);
  });

  it('spends a challenge after 5 attempts and refuses malformed input with field violations', async () => {
    const email = `mfa-limit-${stack.prefix}@example.com`;
    const user = await register(stack, email);
    const mine: authzv1.Resource = { type: 'user', id: user.id, ownerId: user.id };
    await waitFor(async () => (await check(stack, user.id, 'user.manage_mfa', mine)).allowed, {
      timeoutMs: 15_000,
      what: 'the player role',
    });
    const { token } = await signIn(stack, email);
    const { secret } = await users<userv1.EnrollTotpRequest, userv1.EnrollTotpResponse>(
      'enrollTotp',
      { userId: user.id },
      token,
    );
    await users('confirmTotp', { userId: user.id, code: codeOf(secret) }, token);
    const { mfaChallenge } = await startSession(email);
    const malformed = await failure(completeMfa(mfaChallenge!.id, { totpCode: '12' }));
    expect(malformed.kind).toBe('INVALID_ARGUMENT');
    expect(malformed.violations.map((v) => v.field)).toEqual(['totp_code']);
    for (let i = 0; i < 4; i++) {
      const error = await failure(completeMfa(mfaChallenge!.id, { recoveryCode: `nope-${i}` }));
      expect(error.reason).toBe('INVALID_SECOND_FACTOR');
    }
    // Attempts beyond the user's lockout window would lock the account: four wrong, then one
    // right code is the fifth and last attempt the challenge takes.
    const fifth = await completeMfa(mfaChallenge!.id, { totpCode: codeOf(secret, 1) });
    expect(fifth.session?.assuranceLevel).toBe(sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2);
    const sixth = await failure(completeMfa(mfaChallenge!.id, { totpCode: codeOf(secret, 1) }));
    expect(sixth.reason).toBe('MFA_CHALLENGE_NOT_FOUND');
  });
});

describe('session-bound elevation over real processes', () => {
  it('gives a role for one session only: it lapses when the user signs out of it', async () => {
    const admin = await bootstrapAdmin(stack);
    const email = `bound-${stack.prefix}@example.com`;
    const user = await register(stack, email);
    const everyone: authzv1.Resource = { type: 'user', id: '', ownerId: '' };
    await waitFor(async () => (await check(stack, user.id, 'game.join')).allowed, {
      timeoutMs: 15_000,
      what: 'the player role',
    });
    const elevated = await signIn(stack, email);
    const assign = () =>
      call<authzv1.AssignRoleRequest, authzv1.AssignRoleResponse>(
        stack.authz,
        'assignRole',
        {
          subjectId: user.id,
          role: 'admin',
          expireTime: new Date(Date.now() + 3_600_000),
          boundSessionId: elevated.session.id,
          requestId: randomUUID(),
        },
        admin.token,
      );
    // authz-service asks session-service (GetSession) that the session is the user's and active.
    const { assignment } = await assign();
    expect(assignment).toMatchObject({ role: 'admin', boundSessionId: elevated.session.id });
    expect((await check(stack, user.id, 'user.list', everyone)).allowed).toBe(true);

    // Signing out of that session ends the grant (session-service's event, authz's worker).
    await sessions('endSession', { sessionId: elevated.session.id }, elevated.token);
    await waitFor(async () => !(await check(stack, user.id, 'user.list', everyone)).allowed, {
      timeoutMs: 15_000,
      what: 'the bound grant to lapse',
    });
    expect((await check(stack, user.id, 'game.join')).allowed).toBe(true);
    const again = await failure(assign());
    expect(again).toMatchObject({ kind: 'FAILED_PRECONDITION', reason: 'SESSION_NOT_ACTIVE' });
  });
});
