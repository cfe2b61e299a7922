import {
  Bus,
  Idempotency,
  MemoryIdempotencyStore,
  type IdempotencyKeyring,
  type IdempotencyStore,
  type PermissionChecker,
} from '@warden/bus';
import type { Logger } from '@warden/logger';
import { PolicyModel } from './application/policy-model.js';
import { PolicySync } from './application/policy-sync.js';
import type { AuthzRepository, Clock } from './application/ports.js';
import { authzGrpcHandlers } from './adapters/grpc/authz-service-handlers.js';
import { buildUseCases } from './use-cases.js';

export const systemClock: Clock = { now: () => new Date() };

export interface AuthzAppDeps {
  repository: AuthzRepository;
  logger: Logger;
  idempotencyStore?: IdempotencyStore;
  /** Keys of idempotency records (idempotency.secret); tests get a random one. */
  idempotencyKeyring?: IdempotencyKeyring;
  clock?: Clock;
  /** Tests may swap the bus's authorizer; by default it is this process's own policy model. */
  authorizer?: PermissionChecker;
}

/** The server's application: policy model and its sync, the bus, the use cases and their gRPC edge. */
export function buildAuthzApp(deps: AuthzAppDeps) {
  const clock = deps.clock ?? systemClock;
  const model = new PolicyModel(clock);
  const sync = new PolicySync(model, deps.repository, clock, (err, change) =>
    deps.logger.error(
      { err, change },
      'cannot refresh the policy model; the next event or full reload will',
    ),
  );
  const bus = new Bus({
    authorizer: deps.authorizer ?? model,
    idempotency: new Idempotency(
      deps.idempotencyStore ?? new MemoryIdempotencyStore(),
      deps.idempotencyKeyring ? { keyring: deps.idempotencyKeyring } : {},
    ),
  });
  const useCases = buildUseCases(deps.repository, model, sync, clock);
  return { model, sync, bus, useCases, grpc: authzGrpcHandlers(bus, useCases) };
}

export type AuthzApp = ReturnType<typeof buildAuthzApp>;
