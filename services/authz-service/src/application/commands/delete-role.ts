import { type CallContext, type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import { assertDeletable, RoleCatalogue, type AuthzEvent } from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { requireRoleName, namedRole } from '../fields.js';
import { assertKeepsAnAdmin, mayTakeEverything } from '../keep-an-admin.js';
import type { AuthzRepository, Clock, PolicyChangeListener } from '../ports.js';
import { revisionAfter } from '../revisions.js';

export interface DeleteRole {
  name: string;
}

/**
 * Deletes a role with its assignments: one RoleDeleted, no RoleRevoked for each holder. Returns
 * the revision of the write.
 */
export class DeleteRoleHandler implements UseCase<DeleteRole, number> {
  readonly name = 'DeleteRole';
  readonly access = permissionOn<DeleteRole>('role.delete', namedRole);

  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly listener: PolicyChangeListener,
  ) {}

  async execute(input: DeleteRole, ctx: CallContext): Promise<number> {
    const violations = new Violations();
    requireRoleName(violations, 'name', input.name);
    violations.throwIfAny();
    const events = await this.repository.updateCatalogue(async (state) => {
      const catalogue = new RoleCatalogue(state.roles);
      const role = catalogue.get(input.name);
      if (!role) throw roleNotFound(input.name);
      assertDeletable(role);
      catalogue.assertNotInherited(role.name);
      const after = catalogue.without(role.name);
      if (mayTakeEverything(catalogue, after))
        await assertKeepsAnAdmin(
          state,
          { before: catalogue, after },
          this.clock.now(),
          `deleting ${role.name}`,
        );
      const deleted: AuthzEvent[] = [
        { type: 'role_deleted', name: role.name, occurTime: this.clock.now() },
      ];
      return { deleteRoles: [role.name], events: deleted, result: deleted };
    }, ctx);
    await this.listener.committed(events);
    return revisionAfter(events, this.repository);
  }
}
