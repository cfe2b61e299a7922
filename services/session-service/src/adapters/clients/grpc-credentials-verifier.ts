import type { CallContext } from '@warden/bus';
import { isAppError, type AppError, type ErrorKind } from '@warden/errors';
import { callUnary, createClient, type ClientKitOptions } from '@warden/grpc';
import { userv1 } from '@warden/proto';
import type { CredentialsVerifier, UserStatus } from '../../application/ports.js';
import { userServiceRefused, userServiceUnavailable } from '../../errors.js';

/** What the caller may learn from user-service's answer; anything else is our problem, not theirs. */
const PASSED_THROUGH = new Set(['INVALID_CREDENTIALS', 'ACCOUNT_LOCKED', 'PASSWORD_CHECKS_BUSY']);

/** CredentialsVerifier over user-service's VerifyCredentials. */
export class GrpcCredentialsVerifier implements CredentialsVerifier {
  private readonly client: userv1.UserServiceClient;
  private readonly deadlineMs: number;

  constructor(options: ClientKitOptions) {
    this.client = createClient(userv1.UserServiceClient, options);
    this.deadlineMs = options.deadlineMs ?? 5_000;
  }

  async verify(
    email: string,
    password: string,
    ctx: CallContext,
  ): Promise<{ userId: string; status: UserStatus; mfaEnabled: boolean }> {
    try {
      const response = await callUnary(
        this.client.verifyCredentials,
        this.client,
        { email, password },
        forwarded(ctx),
        this.deadlineMs,
      );
      return {
        userId: response.userId,
        status: response.status === userv1.UserStatus.USER_STATUS_ACTIVE ? 'ACTIVE' : 'DISABLED',
        mfaEnabled: response.mfaEnabled,
      };
    } catch (error) {
      throw asVerifyFailure(error);
    }
  }

  close(): void {
    this.client.close();
  }
}

function asVerifyFailure(error: unknown): AppError {
  if (isAppError(error) && (PASSED_THROUGH.has(error.reason) || error.kind === 'INVALID_ARGUMENT'))
    return error;
  const kind = isAppError(error) ? error.kind : 'UNAVAILABLE';
  // Which address failed, and how, is for the log; the caller gets one generic answer.
  if (UNAVAILABLE_KINDS.has(kind)) {
    return userServiceUnavailable(error);
  }
  // Our identity or wiring was refused: an internal fault, never "your credentials".
  const detail = isAppError(error) ? `${error.kind}/${error.reason}` : String(error);
  return userServiceRefused(detail, error);
}

/** user-service could not answer (down, slow, or failed itself): the caller may retry. */
const UNAVAILABLE_KINDS: ReadonlySet<ErrorKind> = new Set([
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'ABORTED',
  'INTERNAL',
]);

/** VerifyCredentials needs only our service identity: no user token goes along. */
const forwarded = (ctx: CallContext) => ({
  requestId: ctx.requestId,
  ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
  ...(ctx.tracestate ? { tracestate: ctx.tracestate } : {}),
  ...(ctx.minRevision ? { minRevision: ctx.minRevision } : {}),
});
