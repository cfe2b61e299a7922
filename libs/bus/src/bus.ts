import { AppError, unauthenticated } from '@warden/errors';
import { auditScopeOf, inAuditScope } from './audit.js';
import { subjectOf, type CallContext, type PermissionChecker } from './context.js';
import type { Idempotency } from './idempotency.js';
import type { Access, UseCase, UserLimit } from './use-case.js';

export interface BusDeps {
  authorizer: PermissionChecker;
  idempotency?: Idempotency;
}

/**
 * Runs every use case through authorization, then idempotency, then its handler, in the call's
 * audit scope (its actor, request_id and trace: what the changes it writes are recorded with);
 * a read-only use case (`readOnly`) writes nothing to record, and runs without one.
 */
export class Bus {
  constructor(private readonly deps: BusDeps) {
    if (!deps.authorizer) throw new Error('Bus needs an authorizer');
  }

  /**
   * Always a promise, never a synchronous throw. Authorization that needs no answer from authz
   * (a service-level use case, no user to limit) adds no promise of its own: a hot read pays for
   * its handler's and nothing more.
   */
  run<I, O>(useCase: UseCase<I, O>, input: I, ctx: CallContext): Promise<O> {
    try {
      if (useCase.readOnly === true) return this.authorizeAndRun(useCase, input, ctx);
      const scope = auditScopeOf(ctx, requestIdOf(useCase, input));
      return inAuditScope(scope, () => this.authorizeAndRun(useCase, input, ctx));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private authorizeAndRun<I, O>(useCase: UseCase<I, O>, input: I, ctx: CallContext): Promise<O> {
    const authorized = this.authorize(useCase, input, ctx);
    return authorized
      ? authorized.then(() => this.execute(useCase, input, ctx))
      : this.execute(useCase, input, ctx);
  }

  private execute<I, O>(useCase: UseCase<I, O>, input: I, ctx: CallContext): Promise<O> {
    if (useCase.idempotency && this.deps.idempotency) {
      return this.deps.idempotency.run(useCase.name, useCase.idempotency, input, ctx, () =>
        useCase.execute(input, ctx),
      );
    }
    return useCase.execute(input, ctx);
  }

  /** Throws (or rejects) when the caller may not; undefined when that was decided without authz. */
  private authorize<I, O>(
    useCase: UseCase<I, O>,
    input: I,
    ctx: CallContext,
  ): Promise<void> | undefined {
    const access = useCase.access;
    switch (access.kind) {
      case 'service':
        return this.limitToUser(useCase.name, access.onBehalf, input, ctx);
      case 'services':
        if (!access.names.includes(ctx.service.name)) {
          // Which services may call it is deployment detail: the log has it, the caller does not.
          throw new AppError(
            'PERMISSION_DENIED',
            'PERMISSION_DENIED',
            `${useCase.name} is reserved for other services`,
            { cause: `allowed: ${access.names.join(', ')}; caller: ${ctx.service.name}` },
          );
        }
        return this.limitToUser(useCase.name, access.onBehalf, input, ctx);
      case 'permission':
        return this.checkPermission(useCase.name, access, input, ctx);
    }
  }

  private async checkPermission<I>(
    name: string,
    access: Extract<Access<I>, { kind: 'permission' }>,
    input: I,
    ctx: CallContext,
  ): Promise<void> {
    const resource = access.resource
      ? await access.resource(input, ctx)
      : { type: access.permission.split('.')[0]! };
    const decision = await this.deps.authorizer.check(
      subjectOf(ctx),
      access.permission,
      resource,
      ctx.user?.assuranceLevel,
      ctx.minRevision,
    );
    if (decision.allowed) return;
    if (!ctx.user) {
      throw unauthenticated(
        'USER_TOKEN_REQUIRED',
        `${name} needs a user session (authorization: Bearer <token>)`,
      );
    }
    if (decision.stepUpRequired) throw stepUpRequired(access.permission, decision.reason);
    // AIP-211: permission is decided before existence and the refusal names only the
    // permission, so another user's resource and a missing one read alike; why goes to the log.
    throw missingPermission(access.permission, decision.reason);
  }

  /**
   * A user riding along on a service call reaches its own data, or others' with the permission;
   * undefined (nothing to ask authz) without a limit or a user, or for the user's own data.
   */
  private limitToUser<I>(
    name: string,
    limit: UserLimit<I> | undefined,
    input: I,
    ctx: CallContext,
  ): Promise<void> | undefined {
    if (!limit || !ctx.user) return undefined;
    const userId = ctx.user.userId;
    if (limit.owners(input).every((owner) => owner === userId)) return undefined;
    return this.checkForUser(name, limit, userId, ctx);
  }

  private async checkForUser<I>(
    name: string,
    limit: UserLimit<I>,
    userId: string,
    ctx: CallContext,
  ): Promise<void> {
    // No owner given: only an unscoped grant can allow it, never the user's `:own` one.
    const decision = await this.deps.authorizer.check(
      userId,
      limit.permission,
      { type: limit.permission.split('.')[0]! },
      ctx.user?.assuranceLevel,
      ctx.minRevision,
    );
    if (decision.allowed) return;
    if (decision.stepUpRequired) throw stepUpRequired(limit.permission, decision.reason);
    throw missingPermission(limit.permission, `${name} for another user: ${decision.reason}`);
  }
}

/**
 * The call's request_id for the audit trail: the request's `request_id` field (AIP-155), which a
 * use case that replays requests itself (StartSession) carries too, else its idempotency key. A
 * key the use case refuses is refused by idempotency after authorization (a refusal must not come
 * before the permission check): '' until then.
 */
function requestIdOf<I, O>(useCase: UseCase<I, O>, input: I): string {
  const field = (input as { requestId?: unknown } | null | undefined)?.requestId;
  if (typeof field === 'string') return field;
  try {
    return useCase.idempotency?.key(input) ?? '';
  } catch {
    return '';
  }
}

/**
 * The caller would be allowed with a second factor: PERMISSION_DENIED / STEP_UP_REQUIRED tells a
 * client to sign in again completing MFA (an AAL2 session) and retry.
 */
function stepUpRequired(permission: string, why: string): AppError {
  return new AppError(
    'PERMISSION_DENIED',
    'STEP_UP_REQUIRED',
    `${permission} needs a session completed with a second factor (AAL2); sign in with it and retry`,
    { metadata: { permission, required_assurance_level: 'AAL2' }, cause: why },
  );
}

function missingPermission(permission: string, why: string): AppError {
  return new AppError(
    'PERMISSION_DENIED',
    'PERMISSION_DENIED',
    `missing permission ${permission}`,
    {
      metadata: { permission },
      cause: why,
    },
  );
}
