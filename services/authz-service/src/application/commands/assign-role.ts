import { type CallContext, type IdempotencySpec, type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import {
  newAssignment,
  roleAssigned,
  RoleCatalogue,
  type AuthzEvent,
  type Role,
  type RoleAssignment,
} from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { assignmentCodec } from '../codecs.js';
import { assertMayHandOut, grantsOfCaller } from '../delegation.js';
import { checkRequestId, requireRoleName, requireSubject, grantedRole } from '../fields.js';
import type {
  AuthzRepository,
  Clock,
  GrantsHeld,
  AuthzChange,
  PolicyChangeListener,
} from '../ports.js';

export interface AssignRole {
  subjectId: string;
  role: string;
  expireTime?: Date;
  requestId?: string;
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

export class AssignRoleHandler implements UseCase<AssignRole, RoleAssignment> {
  readonly name = 'AssignRole';
  readonly access = permissionOn<AssignRole>('role.assign', grantedRole);
  readonly idempotency: IdempotencySpec<AssignRole, RoleAssignment> = {
    key: (input) => input.requestId || undefined,
    fingerprint: (input) =>
      JSON.stringify([input.subjectId, input.role, input.expireTime?.toISOString() ?? '']),
    ...assignmentCodec,
  };

  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly listener: PolicyChangeListener,
    private readonly held: GrantsHeld,
  ) {}

  async execute(input: AssignRole, ctx: CallContext): Promise<RoleAssignment> {
    const violations = new Violations();
    requireSubject(violations, 'subject_id', input.subjectId);
    requireRoleName(violations, 'role', input.role);
    checkRequestId(violations, input.requestId);
    violations.throwIfAny();
    const assignment = newAssignment(input, this.clock.now());
    const callerGrants = await grantsOfCaller(this.held, ctx);
    const events = await this.repository.updateSubject(
      assignment.subjectId,
      ({ roles }) => {
        // The role's grants after inheritance, read in the transaction that assigns it.
        const grants = new RoleCatalogue(roles).grantsOf(assignment.role);
        if (!grants) throw roleNotFound(assignment.role);
        assertMayHandOut(callerGrants, grants.grants, `role ${assignment.role}`);
        return assigning(assignment, roles);
      },
      ctx,
    );
    await this.listener.committed(events ?? []);
    return assignment;
  }
}
