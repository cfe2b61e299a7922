import type { AuditPage, ListAuditEventsInput, UseCase } from '@warden/bus';
import type { AssignRoleHandler } from './commands/assign-role.js';
import type { CreateRoleHandler } from './commands/create-role.js';
import type { DeleteRoleHandler } from './commands/delete-role.js';
import type { RevokeRoleHandler } from './commands/revoke-role.js';
import type { UpdateRoleHandler } from './commands/update-role.js';
import type { CheckPermissionHandler } from './queries/check-permission.js';
import type { CheckPermissionsHandler } from './queries/check-permissions.js';
import type { GetRoleHandler } from './queries/get-role.js';
import type { ListRoleAssignmentsHandler } from './queries/list-role-assignments.js';
import type { ListRolesHandler } from './queries/list-roles.js';
import type { ListSubjectPermissionsHandler } from './queries/list-subject-permissions.js';
import type { LookupSubjectsHandler } from './queries/lookup-subjects.js';
import type { PlanPermissionHandler } from './queries/plan-permission.js';

/** Every use case of the service, one per RPC; the inbound adapters run them through the bus. */
export interface AuthzUseCases {
  checkPermission: CheckPermissionHandler;
  checkPermissions: CheckPermissionsHandler;
  listSubjectPermissions: ListSubjectPermissionsHandler;
  assignRole: AssignRoleHandler;
  revokeRole: RevokeRoleHandler;
  listRoleAssignments: ListRoleAssignmentsHandler;
  createRole: CreateRoleHandler;
  updateRole: UpdateRoleHandler;
  deleteRole: DeleteRoleHandler;
  getRole: GetRoleHandler;
  listRoles: ListRolesHandler;
  lookupSubjects: LookupSubjectsHandler;
  planPermission: PlanPermissionHandler;
  /** The shared ListAuditEvents of @warden/bus over this service's audit trail. */
  listAuditEvents: UseCase<ListAuditEventsInput, AuditPage>;
}
