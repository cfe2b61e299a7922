import {
  type CallContext,
  type IdempotencySpec,
  type PermissionChecker,
  type UseCase,
  permissionOn,
} from '@warden/bus';
import { invalidArgument, Violations } from '@warden/errors';
import {
  describeScope,
  isUserSubject,
  newAssignment,
  roleAssigned,
  RoleCatalogue,
  type AuthzEvent,
  type Role,
  type RoleAssignment,
  type Scope,
} from '../../domain/index.js';
import { roleNotFound, sessionNotActive, sessionsUnavailable } from '../../errors.js';
import { assignmentCodec, type Revised } from '../codecs.js';
import { assertMayHandOut, grantsOfCaller, roleOrScope } from '../delegation.js';
import { revisionAfter } from '../revisions.js';
import { checkRequestId, requireRoleName, requireSubject } from '../fields.js';
import type {
  AuthzRepository,
  Clock,
  GrantsHeld,
  AuthzChange,
  PolicyChangeListener,
  SessionDirectory,
} from '../ports.js';

export interface AssignRole {
  subjectId: string;
  role: string;
  expireTime?: Date;
  requestId?: string;
  /** Unset: the role applies everywhere. */
  scope?: Scope;
  /** The session the grant lapses with; needs expireTime. */
  boundSessionId?: string;
}

/** `authz.max_bound_grant_ttl`'s default: how far ahead a session-bound grant may expire. */
export const DEFAULT_MAX_BOUND_GRANT_TTL_MS = 24 * 3_600_000;

/** No session-service to ask (the operator CLI, tests): a grant is never bound unchecked. */
export const NO_SESSIONS: SessionDirectory = {
  findSession: () =>
    Promise.reject(sessionsUnavailable(new Error('no session-service configured'))),
};

export interface AssignRoleOptions {
  /** Session-service, asked whether a session to bind to is active and whose it is. */
  sessions: SessionDirectory;
  /**
   * The bus's authorizer: whether the caller may assign the role everywhere or only on a scope.
   * Without it (the operator CLI, which runs no bus), the role is the resource checked.
   */
  authorizer?: PermissionChecker;
  /** A session-bound grant's expire_time is at most this far ahead (authz.max_bound_grant_ttl). */
  maxBoundGrantTtlMs?: number;
}

/** The change giving `assignment`, with its event, which it returns (also the bootstrap grants'). */
export function assigning(
  assignment: RoleAssignment,
  roles: readonly Role[],
): AuthzChange<AuthzEvent[]> {
  if (!roles.some((role) => role.name === assignment.role)) throw roleNotFound(assignment.role);
  const events: AuthzEvent[] = [roleAssigned(assignment)];
  return { saveAssignments: [assignment], events, result: events };
}

/** The assignment as stored, and the revision of the write. */
export class AssignRoleHandler implements UseCase<AssignRole, Revised<RoleAssignment>> {
  readonly name = 'AssignRole';
  /** `role.assign` on the role; for a scoped assignment, on the scope itself will do. */
  readonly access = permissionOn<AssignRole>('role.assign', (input, ctx) =>
    roleOrScope(this.options.authorizer, 'role.assign', input, ctx),
  );
  readonly idempotency: IdempotencySpec<AssignRole, Revised<RoleAssignment>> = {
    key: (input) => input.requestId || undefined,
    fingerprint: (input) =>
      JSON.stringify([
        input.subjectId,
        input.role,
        input.expireTime?.toISOString() ?? '',
        ...(input.scope || input.boundSessionId
          ? [input.scope?.type ?? '', input.scope?.id ?? '', input.boundSessionId ?? '']
          : []),
      ]),
    ...assignmentCodec,
  };

  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly listener: PolicyChangeListener,
    private readonly held: GrantsHeld,
    private readonly options: AssignRoleOptions = { sessions: NO_SESSIONS },
  ) {}

  async execute(input: AssignRole, ctx: CallContext): Promise<Revised<RoleAssignment>> {
    const violations = new Violations();
    requireSubject(violations, 'subject_id', input.subjectId);
    requireRoleName(violations, 'role', input.role);
    checkRequestId(violations, input.requestId);
    violations.throwIfAny();
    const now = this.clock.now();
    let assignment = newAssignment(input, now);
    // Grants held unscoped, and on the scope for a scoped assignment: a scoped admin delegates there.
    const callerGrants = await grantsOfCaller(this.held, ctx, assignment.scope);
    const what = assignment.scope
      ? `role ${assignment.role} on ${describeScope(assignment.scope)}`
      : `role ${assignment.role}`;
    if (assignment.boundSessionId !== undefined) {
      checkBinding(assignment, now, this.options.maxBoundGrantTtlMs);
      // Session-service is asked only for a caller who may hand the role out: one who may not
      // learns nothing about the session (whether it exists, whose it is, whether it is active).
      mayAssign(await this.repository.allRoles(), assignment.role, callerGrants, what);
      assignment = await this.boundToActiveSession(assignment);
    }
    const events = await this.repository.updateSubject(
      assignment.subjectId,
      ({ roles, sessionEnded }) => {
        // The session may have ended since it was asked about: its end, recorded under the same
        // lock, is seen here, or the end's removal of bound grants sees this one.
        if (sessionEnded) throw sessionNotActive(assignment.boundSessionId!);
        // The role's grants after inheritance, read again in the transaction that assigns it.
        mayAssign(roles, assignment.role, callerGrants, what);
        return assigning(assignment, roles);
      },
      {
        ...ctx,
        ...(assignment.boundSessionId === undefined
          ? {}
          : { boundSession: assignment.boundSessionId }),
      },
    );
    await this.listener.committed(events ?? []);
    return { value: assignment, revision: await revisionAfter(events, this.repository) };
  }

  /**
   * The bound session must be the subject's and active (asked of session-service: an outage is
   * SESSIONS_UNAVAILABLE, never an unchecked binding); the grant lapses by the session's absolute
   * expiry at the latest.
   */
  private async boundToActiveSession(assignment: RoleAssignment): Promise<RoleAssignment> {
    const sessionId = assignment.boundSessionId!;
    const session = await this.options.sessions.findSession(sessionId);
    if (session && session.userId !== assignment.subjectId)
      throw invalidArgument([
        { field: 'bound_session_id', description: 'is a session of another user than subject_id' },
      ]);
    if (!session?.active) throw sessionNotActive(sessionId);
    const sessionEnd = session.expireTime;
    return sessionEnd && sessionEnd.getTime() < assignment.expireTime!.getTime()
      ? { ...assignment, expireTime: sessionEnd }
      : assignment;
  }
}

/**
 * What a binding needs before anything is asked about its session: a user subject, and an
 * expire_time at most authz.max_bound_grant_ttl ahead.
 */
function checkBinding(assignment: RoleAssignment, now: Date, maxBoundGrantTtlMs?: number): void {
  const maxTtl = maxBoundGrantTtlMs ?? DEFAULT_MAX_BOUND_GRANT_TTL_MS;
  if (assignment.expireTime!.getTime() - now.getTime() > maxTtl)
    throw invalidArgument([
      {
        field: 'expire_time',
        description: `at most ${Math.floor(maxTtl / 60_000)} minutes ahead for a session-bound grant`,
      },
    ]);
  if (!isUserSubject(assignment.subjectId))
    throw invalidArgument([
      { field: 'bound_session_id', description: 'only a user subject has sessions' },
    ]);
}

/** The role exists in `roles` and the caller holds every grant it gives (after inheritance). */
function mayAssign(
  roles: readonly Role[],
  role: string,
  callerGrants: readonly string[],
  what: string,
): void {
  const grants = new RoleCatalogue(roles).grantsOf(role);
  if (!grants) throw roleNotFound(role);
  assertMayHandOut(callerGrants, grants.grants, what);
}
