import { type CallContext, type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import { RoleCatalogue, rolesGrantingEverything, type AuthzEvent } from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { requireRoleName, requireSubject, grantedRole } from '../fields.js';
import { assertKeepsAnAdmin } from '../keep-an-admin.js';
import type { AuthzRepository, Clock, PolicyChangeListener } from '../ports.js';

export interface RevokeRole {
  subjectId: string;
  role: string;
}

export class RevokeRoleHandler implements UseCase<RevokeRole, void> {
  readonly name = 'RevokeRole';
  readonly access = permissionOn<RevokeRole>('role.revoke', grantedRole);

  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly listener: PolicyChangeListener,
  ) {}

  async execute(input: RevokeRole, ctx: CallContext): Promise<void> {
    const violations = new Violations();
    requireSubject(violations, 'subject_id', input.subjectId);
    requireRoleName(violations, 'role', input.role);
    violations.throwIfAny();
    // Under the catalogue lock: two admins revoking each other cannot both succeed.
    const events = await this.repository.updateCatalogue(async (state) => {
      const catalogue = new RoleCatalogue(state.roles);
      if (!catalogue.has(input.role)) throw roleNotFound(input.role);
      const held = await state.assignmentsOf(input.subjectId);
      // Revoking a role the subject does not hold succeeds quietly: the end state is the same.
      if (!held.some((assignment) => assignment.role === input.role))
        return { events: [], result: [] };
      if (rolesGrantingEverything(catalogue).includes(input.role))
        await assertKeepsAnAdmin(
          state,
          { before: catalogue, after: catalogue },
          this.clock.now(),
          `revoking ${input.role}`,
          input,
        );
      const revoked: AuthzEvent[] = [
        {
          type: 'role_revoked',
          subjectId: input.subjectId,
          role: input.role,
          reason: 'REVOKED',
          occurTime: this.clock.now(),
        },
      ];
      const key = { subjectId: input.subjectId, role: input.role };
      return { deleteAssignments: [key], events: revoked, result: revoked };
    }, ctx);
    if (events.length > 0) await this.listener.committed(events);
  }
}
