import { AssignRoleHandler } from './application/commands/assign-role.js';
import { CreateRoleHandler } from './application/commands/create-role.js';
import { DeleteRoleHandler } from './application/commands/delete-role.js';
import { RevokeRoleHandler } from './application/commands/revoke-role.js';
import { UpdateRoleHandler } from './application/commands/update-role.js';
import {
  CheckPermissionHandler,
  CheckPermissionsHandler,
} from './application/queries/check-permission.js';
import { ListRoleAssignmentsHandler } from './application/queries/list-role-assignments.js';
import { ListSubjectPermissionsHandler } from './application/queries/list-subject-permissions.js';
import { GetRoleHandler } from './application/queries/get-role.js';
import { ListRolesHandler } from './application/queries/list-roles.js';
import type { PolicyModel } from './application/policy-model.js';
import type { PolicySync } from './application/policy-sync.js';
import type { AuthzRepository, Clock } from './application/ports.js';

export type AuthzUseCases = ReturnType<typeof buildUseCases>;

/** Every use case of the server, built with plain constructors. */
export function buildUseCases(
  repository: AuthzRepository,
  model: PolicyModel,
  sync: PolicySync,
  clock: Clock,
) {
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
  };
}
