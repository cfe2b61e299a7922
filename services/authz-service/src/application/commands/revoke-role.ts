import type { Access, CallContext, UseCase } from '@warden/bus';
import { Violations } from '@warden/errors';
import { RoleCatalogue, rolesGrantingEverything, type AuthzEvent } from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { requireRoleName, requireSubject } from '../fields.js';
import { keepingAnAdmin } from '../keep-an-admin.js';
import type { AuthzRepository, Clock, PolicyChangeListener } from '../ports.js';

export interface RevokeRole {
  subjectId: string;
  role: string;
}

export class RevokeRoleHandler implements UseCase<RevokeRole, void> {
  readonly name = 'RevokeRole';
  readonly access: Access<RevokeRole> = {
    kind: 'permission',
    permission: 'role.revoke',
    resource: (input) => ({ type: 'role', id: input.role }),
  };

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
    const events = await this.repository.transaction(async (tx) => {
      // Serializes revocations, so two admins revoking each other cannot both succeed.
      await tx.lockCatalogue();
      const catalogue = new RoleCatalogue(await tx.roles());
      if (!catalogue.has(input.role)) throw roleNotFound(input.role);
      const remove = () => tx.deleteAssignment(input);
      const removed = rolesGrantingEverything(catalogue).includes(input.role)
        ? await keepingAnAdmin(
            tx,
            { before: catalogue, after: catalogue },
            this.clock.now(),
            `revoking ${input.role}`,
            remove,
          )
        : await remove();
      // Revoking a role the subject does not hold succeeds quietly: the end state is the same.
      if (!removed) return [];
      const revoked: AuthzEvent[] = [
        {
          type: 'role_revoked',
          subjectId: input.subjectId,
          role: input.role,
          reason: 'REVOKED',
          occurTime: this.clock.now(),
        },
      ];
      await tx.record(revoked);
      return revoked;
    }, ctx);
    if (events.length > 0) await this.listener.committed(events);
  }
}
