import { type CallContext, type UseCase, permissionOn } from '@warden/bus';
import { invalidArgument, Violations } from '@warden/errors';
import {
  changeRole,
  ROLE_FIELDS,
  RoleCatalogue,
  type AuthzEvent,
  type Role,
  type RoleField,
  type RolePatch,
} from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { assertMayHandOut, grantsOfCaller } from '../delegation.js';
import { requireRoleName, namedRole } from '../fields.js';
import type { Revised } from '../codecs.js';
import { assertKeepsAnAdmin, mayTakeEverything } from '../keep-an-admin.js';
import type { AuthzRepository, Clock, GrantsHeld, PolicyChangeListener } from '../ports.js';
import { revisionAfter } from '../revisions.js';

export interface UpdateRole {
  name: string;
  description: string;
  permissions: string[];
  inherits: string[];
  /** Fields to update; empty means every field given a non-empty value. */
  updateMask: string[];
}

/** The role after the update, and the revision of the write (the current one when nothing changed). */
export class UpdateRoleHandler implements UseCase<UpdateRole, Revised<Role>> {
  readonly name = 'UpdateRole';
  readonly access = permissionOn<UpdateRole>('role.update', namedRole);

  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly listener: PolicyChangeListener,
    private readonly held: GrantsHeld,
  ) {}

  async execute(input: UpdateRole, ctx: CallContext): Promise<Revised<Role>> {
    const violations = new Violations();
    requireRoleName(violations, 'role.name', input.name);
    violations.throwIfAny();
    const patch = patchOf(input);
    const callerGrants = await grantsOfCaller(this.held, ctx);
    const { role, events } = await this.repository.updateCatalogue(async (state) => {
      const catalogue = new RoleCatalogue(state.roles);
      const current = catalogue.get(input.name);
      if (!current) throw roleNotFound(input.name);
      const { role: next, changed } = changeRole(current, patch, this.clock.now());
      if (changed.length === 0) return { events: [], result: { role: current, events: [] } };
      catalogue.assertInheritable(next);
      // Only what the change adds: an editor may keep or drop grants it does not hold itself.
      const added = next.permissions.filter((grant) => !current.permissions.includes(grant));
      const adopted = next.inherits.filter((parent) => !current.inherits.includes(parent));
      assertMayHandOut(
        callerGrants,
        [...added, ...adopted.flatMap((parent) => catalogue.grantsOf(parent)!.grants)],
        `role ${next.name}`,
      );
      const after = catalogue.with(next);
      if (mayTakeEverything(catalogue, after))
        await assertKeepsAnAdmin(
          state,
          { before: catalogue, after },
          this.clock.now(),
          `changing ${next.name}`,
        );
      const updated: AuthzEvent[] = [
        { type: 'role_updated', role: next, changed, occurTime: next.updateTime },
      ];
      return { saveRoles: [next], events: updated, result: { role: next, events: updated } };
    }, ctx);
    if (events.length > 0) await this.listener.committed(events);
    return { value: role, revision: await revisionAfter(events, this.repository) };
  }
}

function patchOf(input: UpdateRole): RolePatch {
  const unknown = input.updateMask.filter((path) => !ROLE_FIELDS.includes(path as RoleField));
  if (unknown.length > 0) {
    throw invalidArgument([
      {
        field: 'update_mask',
        description: `unknown path ${unknown.join(', ')}; allowed: ${ROLE_FIELDS.join(', ')}`,
      },
    ]);
  }
  const given = (field: RoleField) =>
    field === 'description' ? input.description !== '' : input[field].length > 0;
  const fields =
    input.updateMask.length > 0 ? (input.updateMask as RoleField[]) : ROLE_FIELDS.filter(given);
  const patch: RolePatch = {};
  for (const field of fields) {
    if (field === 'description') patch.description = input.description;
    else patch[field] = input[field];
  }
  return patch;
}
