import { randomUUID } from 'node:crypto';
import type { AppError } from '@warden/errors';
import { authzv1, sessionv1, userv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { Secret, TOTP } from 'otpauth';
import { call, type Stack } from './stack.js';

// What a user of the stack does, over real gRPC: shared by the end-to-end suite and the benchmarks.

export const PASSWORD = 'correct horse battery';

export async function register(stack: Stack, email: string): Promise<userv1.User> {
  const response = await call<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(
    stack.users,
    'registerUser',
    { email, password: PASSWORD, displayName: email.split('@')[0]!, requestId: randomUUID() },
  );
  return response.user!;
}

/**
 * Registers, then waits for the default role, which authz gives from the UserRegistered event:
 * until it lands the user holds no grant at all, not even to end their own session.
 */
export async function registerPlayer(stack: Stack, email: string): Promise<userv1.User> {
  const user = await register(stack, email);
  await waitFor(async () => (await check(stack, user.id, 'game.join')).allowed, {
    timeoutMs: 15_000,
    what: `default role of ${email}`,
  });
  return user;
}

/** StartSession as the gateway sends it, with a fresh request_id: its whole answer (session or MFA challenge). */
export function startSession(
  stack: Stack,
  email: string,
  password = PASSWORD,
): Promise<sessionv1.StartSessionResponse> {
  return call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
    stack.sessions,
    'startSession',
    {
      email,
      password,
      client: { ipAddress: '127.0.0.1', userAgent: 'e2e' },
      requestId: randomUUID(),
    },
  );
}

export async function signIn(
  stack: Stack,
  email: string,
): Promise<{ session: sessionv1.Session; token: string; accessToken: string }> {
  const response = await startSession(stack, email);
  // accessToken is empty unless session-service has access_tokens.enabled.
  return { session: response.session!, token: response.token, accessToken: response.accessToken };
}

/** CheckPermission as the gateway asks it. */
export const check = (
  stack: Stack,
  subjectId: string,
  permission: string,
  resource: authzv1.Resource = { type: 'game', id: 'g1', ownerId: '' },
) =>
  call<authzv1.CheckPermissionRequest, authzv1.CheckPermissionResponse>(
    stack.authz,
    'checkPermission',
    { subjectId, permission, resource },
  );

const ASSIGN_ADMIN: authzv1.Resource = { type: 'role', id: 'admin', ownerId: '' };

/** Registers the stack's bootstrap admin, waits for the admin role, and signs in. */
export async function bootstrapAdmin(
  stack: Stack,
): Promise<{ user: userv1.User; session: sessionv1.Session; token: string }> {
  const user = await register(stack, stack.adminEmail);
  await waitFor(async () => (await check(stack, user.id, 'role.assign', ASSIGN_ADMIN)).allowed, {
    timeoutMs: 15_000,
    what: 'bootstrap admin',
  });
  return { user, ...(await signIn(stack, stack.adminEmail)) };
}

/** The error a call failed with; throws when it did not fail. */
export async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the call to fail');
}

const TOTP_STEP_MS = 30_000;

/** What a user's authenticator app shows for `secret`, `stepsAhead` time steps from now. */
export const codeOf = (secret: string, stepsAhead = 0): string =>
  TOTP.generate({
    secret: Secret.fromBase32(secret),
    timestamp: Date.now() + stepsAhead * TOTP_STEP_MS,
  });
