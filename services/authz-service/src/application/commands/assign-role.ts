import type { Access, CallContext, IdempotencySpec, UseCase } from '@warden/bus';
import { Violations } from '@warden/errors';
import {
  newAssignment,
  roleAssigned,
  RoleCatalogue,
  type AuthzEvent,
  type RoleAssignment,
} from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { assignmentCodec } from '../codecs.js';
import { assertMayHandOut } from '../delegation.js';
import { checkRequestId, requireRoleName, requireSubject } from '../fields.js';
import type {
  AuthzRepository,
  AuthzTransaction,
  Clock,
  GrantsHeld,
  PolicyChangeListener,
} from '../ports.js';

export interface AssignRole {
  subjectId: string;
  role: string;
  expireTime?: Date;
  requestId?: string;
}

/** Gives `assignment` inside `tx` (also used by the user-event consumer and the admin command). */
export async function assignIn(
  tx: AuthzTransaction,
  assignment: RoleAssignment,
): Promise<AuthzEvent[]> {
  if (!(await tx.findRole(assignment.role))) throw roleNotFound(assignment.role);
  await tx.saveAssignment(assignment);
  const events: AuthzEvent[] = [roleAssigned(assignment)];
  await tx.record(events);
  return events;
}

export class AssignRoleHandler implements UseCase<AssignRole, RoleAssignment> {
  readonly name = 'AssignRole';
  readonly access: Access<AssignRole> = {
    kind: 'permission',
    permission: 'role.assign',
    resource: (input) => ({ type: 'role', id: input.role }),
  };
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
    const events = await this.repository.transaction(async (tx) => {
      // The role's grants after inheritance, read in the transaction that assigns it.
      const grants = new RoleCatalogue(await tx.roles()).grantsOf(assignment.role);
      if (!grants) throw roleNotFound(assignment.role);
      assertMayHandOut(this.held, ctx, grants.grants, `role ${assignment.role}`);
      return assignIn(tx, assignment);
    }, ctx);
    await this.listener.committed(events);
    return assignment;
  }
}
