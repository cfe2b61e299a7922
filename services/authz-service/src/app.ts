import {
  Bus,
  Idempotency,
  listAuditEvents,
  MemoryAuditLog,
  MemoryIdempotencyStore,
  type AuditLog,
  type IdempotencyKeyring,
  type IdempotencyStore,
  type PermissionChecker,
} from '@warden/bus';
import type { Logger } from '@warden/logger';
import { authzServiceHandlers } from './adapters/grpc/authz-service-handlers.js';
import {
  AssignRoleHandler,
  NO_SESSIONS,
  type AssignRoleOptions,
} from './application/commands/assign-role.js';
import { CreateRoleHandler } from './application/commands/create-role.js';
import { DeleteRoleHandler } from './application/commands/delete-role.js';
import { RevokeRoleHandler } from './application/commands/revoke-role.js';
import { UpdateRoleHandler } from './application/commands/update-role.js';
import { FreshPolicy } from './application/fresh-policy.js';
import { PolicyModel } from './application/policy-model.js';
import { PolicySync } from './application/policy-sync.js';
import { Freshness } from './application/revisions.js';
import type { AuthzRepository, Clock, SessionDirectory } from './application/ports.js';
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
  /**
   * How long a read asking for a revision newer than the policy model waits for its events
   * before reading through to Postgres (authz.min_revision_wait); default 150 ms.
   */
  minRevisionWaitMs?: number;
  /**
   * Session-service, asked by AssignRole about a session to bind a grant to; without it, binding
   * answers SESSIONS_UNAVAILABLE.
   */
  sessions?: SessionDirectory;
  /** How far ahead a session-bound grant may expire (authz.max_bound_grant_ttl); default 24 h. */
  maxBoundGrantTtlMs?: number;
  /** The audit trail ListAuditEvents reads: PgAuditLog in production, an empty memory one by default. */
  auditLog?: AuditLog;
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
  const policy = new FreshPolicy(
    model,
    new Freshness(sync.watermark, repository, deps.minRevisionWaitMs),
    clock,
    repository,
  );
  const bus = new Bus({
    authorizer: deps.authorizer ?? policy,
    idempotency: new Idempotency(
      deps.idempotencyStore ?? new MemoryIdempotencyStore(),
      deps.idempotencyKeyring ? { keyring: deps.idempotencyKeyring } : {},
    ),
  });
  const useCases = createUseCases(
    repository,
    policy,
    sync,
    clock,
    {
      authorizer: deps.authorizer ?? policy,
      sessions: deps.sessions ?? NO_SESSIONS,
      ...(deps.maxBoundGrantTtlMs === undefined
        ? {}
        : { maxBoundGrantTtlMs: deps.maxBoundGrantTtlMs }),
    },
    deps.auditLog ?? new MemoryAuditLog(),
  );
  return { model, policy, sync, bus, useCases, grpc: authzServiceHandlers(bus, useCases) };
}

function createUseCases(
  repository: AuthzRepository,
  policy: FreshPolicy,
  sync: PolicySync,
  clock: Clock,
  assignOptions: AssignRoleOptions,
  auditLog: AuditLog,
): AuthzUseCases {
  const model = policy.model;
  return {
    checkPermission: new CheckPermissionHandler(policy),
    checkPermissions: new CheckPermissionsHandler(policy),
    listSubjectPermissions: new ListSubjectPermissionsHandler(policy),
    assignRole: new AssignRoleHandler(repository, clock, sync, model, assignOptions),
    revokeRole: new RevokeRoleHandler(repository, clock, sync, assignOptions.authorizer),
    listRoleAssignments: new ListRoleAssignmentsHandler(repository, clock),
    createRole: new CreateRoleHandler(repository, clock, sync, model),
    updateRole: new UpdateRoleHandler(repository, clock, sync, model),
    deleteRole: new DeleteRoleHandler(repository, clock, sync),
    getRole: new GetRoleHandler(repository),
    listRoles: new ListRolesHandler(repository),
    lookupSubjects: new LookupSubjectsHandler(policy, repository, clock),
    planPermission: new PlanPermissionHandler(policy, clock),
    listAuditEvents: listAuditEvents(auditLog),
  };
}
