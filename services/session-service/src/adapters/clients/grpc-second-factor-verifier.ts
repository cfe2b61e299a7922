import type { CallContext } from '@warden/bus';
import { isAppError, type AppError, type ErrorKind } from '@warden/errors';
import { callUnary, createClient, type ClientKitOptions } from '@warden/grpc';
import { userv1 } from '@warden/proto';
import type { PresentedSecondFactor, SecondFactorVerifier } from '../../application/ports.js';
import {
  accountDisabled,
  fail,
  invalidSecondFactor,
  userServiceUnavailable,
} from '../../errors.js';

/** What the caller may learn from user-service's answer; anything else is our problem, not theirs. */
const PASSED_THROUGH = new Set(['ACCOUNT_LOCKED', 'PASSWORD_CHECKS_BUSY']);

/** SecondFactorVerifier over user-service's VerifySecondFactor (named-service only: us). */
export class GrpcSecondFactorVerifier implements SecondFactorVerifier {
  private readonly client: userv1.UserServiceClient;
  private readonly deadlineMs: number;

  constructor(options: ClientKitOptions) {
    this.client = createClient(userv1.UserServiceClient, options);
    this.deadlineMs = options.deadlineMs ?? 5_000;
  }

  async verify(userId: string, factor: PresentedSecondFactor, ctx: CallContext): Promise<void> {
    try {
      await callUnary(
        this.client.verifySecondFactor,
        this.client,
        factor.kind === 'TOTP'
          ? { userId, totpCode: factor.code }
          : { userId, recoveryCode: factor.code },
        {
          requestId: ctx.requestId,
          ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
          ...(ctx.tracestate ? { tracestate: ctx.tracestate } : {}),
          ...(ctx.minRevision ? { minRevision: ctx.minRevision } : {}),
        },
        this.deadlineMs,
      );
    } catch (error) {
      throw asSecondFactorFailure(error);
    }
  }

  close(): void {
    this.client.close();
  }
}

function asSecondFactorFailure(error: unknown): AppError {
  if (isAppError(error)) {
    if (PASSED_THROUGH.has(error.reason)) return error;
    // A wrong code and a malformed one read alike: the challenge took the attempt either way.
    if (error.reason === 'INVALID_SECOND_FACTOR' || error.kind === 'INVALID_ARGUMENT')
      return invalidSecondFactor();
    if (error.reason === 'ACCOUNT_DISABLED') return accountDisabled();
    // The factor was removed after StartSession: the challenge cannot be completed.
    if (error.reason === 'MFA_NOT_ENABLED' || error.reason === 'USER_NOT_FOUND')
      return invalidSecondFactor();
  }
  const kind: ErrorKind = isAppError(error) ? error.kind : 'UNAVAILABLE';
  if (UNAVAILABLE_KINDS.has(kind)) return userServiceUnavailable(error);
  const detail = isAppError(error) ? `${error.kind}/${error.reason}` : String(error);
  return fail('INTERNAL', `user-service refused VerifySecondFactor: ${detail}`, { cause: error });
}

const UNAVAILABLE_KINDS: ReadonlySet<ErrorKind> = new Set([
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'ABORTED',
  'INTERNAL',
]);
