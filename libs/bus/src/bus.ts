import { AppError, unauthenticated } from '@warden/errors';
import { subjectOf, type CallContext, type PermissionChecker } from './context.js';
import type { Idempotency } from './idempotency.js';
import type { UseCase } from './use-case.js';

export interface UseCaseObserver {
  (name: string, durationMs: number, error: unknown | undefined): void;
}

export interface BusDeps {
  authorizer: PermissionChecker;
  idempotency?: Idempotency;
  observe?: UseCaseObserver;
}

/** Runs every use case through authorization, then idempotency, then its handler, and times it. */
export class Bus {
  constructor(private readonly deps: BusDeps) {
    if (!deps.authorizer) throw new Error('Bus needs an authorizer');
  }

  async run<I, O>(useCase: UseCase<I, O>, input: I, ctx: CallContext): Promise<O> {
    const started = performance.now();
    let failure: unknown;
    try {
      await this.authorize(useCase, input, ctx);
      if (useCase.idempotency && this.deps.idempotency) {
        return await this.deps.idempotency.run(useCase.name, useCase.idempotency, input, ctx, () =>
          useCase.execute(input, ctx),
        );
      }
      return await useCase.execute(input, ctx);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      this.deps.observe?.(useCase.name, performance.now() - started, failure);
    }
  }

  private async authorize<I, O>(useCase: UseCase<I, O>, input: I, ctx: CallContext): Promise<void> {
    const access = useCase.access;
    switch (access.kind) {
      case 'service':
        return;
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
        return;
      case 'permission': {
        const resource = access.resource
          ? await access.resource(input, ctx)
          : { type: access.permission.split('.')[0]! };
        const decision = await this.deps.authorizer.check(
          subjectOf(ctx),
          access.permission,
          resource,
        );
        if (decision.allowed) return;
        if (!ctx.user) {
          throw unauthenticated(
            'USER_TOKEN_REQUIRED',
            `${useCase.name} needs a user session (authorization: Bearer <token>)`,
          );
        }
        // AIP-211: permission is decided before existence and the refusal names only the
        // permission, so another user's resource and a missing one read alike; why goes to the log.
        throw new AppError(
          'PERMISSION_DENIED',
          'PERMISSION_DENIED',
          `missing permission ${access.permission}`,
          { metadata: { permission: access.permission }, cause: decision.reason },
        );
      }
    }
  }
}
