import {
  Bus,
  Idempotency,
  MemoryIdempotencyStore,
  type IdempotencyKeyring,
  type IdempotencyStore,
  type PermissionChecker,
} from '@warden/bus';
import type { Logger } from '@warden/logger';
import { authzServiceHandlers } from './adapters/grpc/authz-service-handlers.js';
import { AssignRoleHandler } from './application/commands/assign-role.js';
import { CreateRoleHandler } from './application/commands/create-role.js';
import { DeleteRoleHandler } from './application/commands/delete-role.js';
import { RevokeRoleHandler } from './application/commands/revoke-role.js';
import { UpdateRoleHandler } from './application/commands/update-role.js';
import { PolicyModel } from './application/policy-model.js';
import { PolicySync } from './application/policy-sync.js';
import type { AuthzRepository, Clock } from './application/ports.js';
import type { AuthzUseCases } from './application/use-cases.js';
import { CheckPermissionHandler } from './application/queries/check-permission.js';
import { CheckPermissionsHandler } from './application/queries/check-permissions.js';
import { GetRoleHandler } from './application/queries/get-role.js';
import { ListRoleAssignmentsHandler } from './application/queries/list-role-assignments.js';
import { ListRolesHandler } from './application/queries/list-roles.js';
import { ListSubjectPermissionsHandler } from './application/queries/list-subject-permissions.js';
import { LookupSubjectsHandler } from './application/queries/lookup-subjects.js';
import { PlanPermissionHandler } from './application/queries/plan-permission.js';

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
  /** Subjects whose assignments stay in memory (authz.subject_cache_max); default 100k. */
  subjectCacheMax?: number;
}

export type AuthzApp = ReturnType<typeof createAuthzApp>;

/** The composition root: policy model and its sync, the bus, the use cases and their gRPC edge. */
export function createAuthzApp(deps: AuthzAppDeps) {
  const { repository } = deps;
  const clock = deps.clock ?? systemClock;
  const model = new PolicyModel(clock, {
    source: repository,
    ...(deps.subjectCacheMax === undefined ? {} : { maxSubjects: deps.subjectCacheMax }),
  });
  const sync = new PolicySync(model, repository, (err, change) =>
    deps.logger.error(
      { err, change },
      'cannot refresh the policy model; the subject is read again at its next check',
    ),
  );
  const bus = new Bus({
    authorizer: deps.authorizer ?? model,
    idempotency: new Idempotency(
      deps.idempotencyStore ?? new MemoryIdempotencyStore(),
      deps.idempotencyKeyring ? { keyring: deps.idempotencyKeyring } : {},
    ),
  });
  const useCases = createUseCases(repository, model, sync, clock);
  return { model, sync, bus, useCases, grpc: authzServiceHandlers(bus, useCases) };
}

function createUseCases(
  repository: AuthzRepository,
  model: PolicyModel,
  sync: PolicySync,
  clock: Clock,
): AuthzUseCases {
  return {
    checkPermission: new CheckPermissionHandler(model),
    checkPermissions: new CheckPermissionsHandler(model),
    listSubjectPermissions: new ListSubjectPermissionsHandler(model),
    assignRole: new AssignRoleHandler(repository, clock, sync, model),
    revokeRole: new RevokeRoleHandler(repository, clock, sync),
    listRoleAssignments: new ListRoleAssignmentsHandler(repository, clock),
    createRole: new CreateRoleHandler(repository, clock, sync, model),
    updateRole: new UpdateRoleHandler(repository, clock, sync, model),
    deleteRole: new DeleteRoleHandler(repository, clock, sync),
    getRole: new GetRoleHandler(repository),
    listRoles: new ListRolesHandler(repository),
    lookupSubjects: new LookupSubjectsHandler(model, repository, clock),
    planPermission: new PlanPermissionHandler(model, clock),
  };
}
