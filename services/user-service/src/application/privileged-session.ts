import type { CallContext } from '@warden/bus';
import { reauthenticationRequired, stepUpRequired } from '../errors.js';

/** auth.privileged_session_max_age: how recent a sign-in a user's own credential change needs. */
export interface PrivilegedSessionPolicy {
  maxAgeMs: number;
}

export const DEFAULT_PRIVILEGED_SESSION: PrivilegedSessionPolicy = { maxAgeMs: 15 * 60_000 };

/**
 * A user changing their own credentials (ChangePassword, EnrollTotp, ConfirmTotp) needs a
 * privileged session, as Kratos asks: started at most `maxAgeMs` ago and, once the user has a
 * second factor, completed with it (AAL2). A stolen or forgotten session alone then cannot swap
 * the password or plant the thief's authenticator. Someone acting on another user's account
 * (an administrator, by permission) is not concerned.
 */
export function requirePrivilegedSession(
  ctx: CallContext,
  userId: string,
  mfaEnabled: boolean,
  now: Date,
  policy: PrivilegedSessionPolicy,
): void {
  const principal = ctx.user;
  if (!principal || principal.userId !== userId) return;
  // Signing in again with the second factor also makes a fresh session: say what fixes both.
  if (mfaEnabled && principal.assuranceLevel !== 'AAL2') throw stepUpRequired();
  const signedIn = principal.authenticatedAt?.getTime();
  if (signedIn === undefined || now.getTime() - signedIn > policy.maxAgeMs)
    throw reauthenticationRequired(policy.maxAgeMs);
}
