import type { Bus } from '@warden/bus';
import { fromProtoListAuditEvents, toProtoAuditPage, type CallInfo } from '@warden/grpc';
import { authzv1 } from '@warden/proto';
import type { AuthzUseCases } from '../../application/use-cases.js';
import type { Decision, PlanKind } from '../../domain/index.js';
import {
  fromProtoResource,
  fromProtoScope,
  toProtoAccess,
  toProtoAssignment,
  toProtoRole,
} from '../../mapping.js';

type Handler<Req, Res> = (request: Req, call: CallInfo) => Promise<Res>;

/** The AuthzService edge: proto in, use case through the bus, proto out. No rules here. */
export function authzServiceHandlers(bus: Bus, useCases: AuthzUseCases) {
  const checkPermission: Handler<
    authzv1.CheckPermissionRequest,
    authzv1.CheckPermissionResponse
  > = async (request, { ctx }) =>
    toProtoDecision(await bus.run(useCases.checkPermission, toCheck(request), ctx));

  const handlers = {
    checkPermission,
    checkPermissions: (async (request, { ctx }) => ({
      results: (
        await bus.run(useCases.checkPermissions, { checks: request.checks.map(toCheck) }, ctx)
      ).map(toProtoDecision),
    })) satisfies Handler<authzv1.CheckPermissionsRequest, authzv1.CheckPermissionsResponse>,

    listSubjectPermissions: (async (request, { ctx }) =>
      toProtoAccess(
        await bus.run(
          useCases.listSubjectPermissions,
          {
            subjectId: request.subjectId,
            ...(request.minRevision ? { minRevision: request.minRevision } : {}),
          },
          ctx,
        ),
      )) satisfies Handler<
      authzv1.ListSubjectPermissionsRequest,
      authzv1.ListSubjectPermissionsResponse
    >,

    assignRole: (async (request, { ctx }) => {
      const assignment = await bus.run(
        useCases.assignRole,
        {
          subjectId: request.subjectId,
          role: request.role,
          ...(request.expireTime ? { expireTime: request.expireTime } : {}),
          ...(request.requestId ? { requestId: request.requestId } : {}),
          ...(request.scope ? { scope: fromProtoScope(request.scope)! } : {}),
          // Empty reads as unset, as for every other optional string here.
          ...(request.boundSessionId ? { boundSessionId: request.boundSessionId } : {}),
        },
        ctx,
      );
      return { assignment: toProtoAssignment(assignment.value), revision: assignment.revision };
    }) satisfies Handler<authzv1.AssignRoleRequest, authzv1.AssignRoleResponse>,

    revokeRole: (async (request, { ctx }) => {
      const revision = await bus.run(
        useCases.revokeRole,
        {
          subjectId: request.subjectId,
          role: request.role,
          ...(request.scope ? { scope: fromProtoScope(request.scope)! } : {}),
        },
        ctx,
      );
      return { revision };
    }) satisfies Handler<authzv1.RevokeRoleRequest, authzv1.RevokeRoleResponse>,

    listRoleAssignments: (async (request, { ctx }) => {
      const page = await bus.run(useCases.listRoleAssignments, request, ctx);
      return {
        assignments: page.assignments.map(toProtoAssignment),
        nextPageToken: page.nextPageToken,
      };
    }) satisfies Handler<authzv1.ListRoleAssignmentsRequest, authzv1.ListRoleAssignmentsResponse>,

    createRole: (async (request, { ctx }) => {
      const role = request.role;
      const created = await bus.run(
        useCases.createRole,
        {
          name: role?.name ?? '',
          description: role?.description ?? '',
          permissions: role?.permissions ?? [],
          inherits: role?.inherits ?? [],
          ...(request.requestId ? { requestId: request.requestId } : {}),
        },
        ctx,
      );
      return { role: toProtoRole(created.value), revision: created.revision };
    }) satisfies Handler<authzv1.CreateRoleRequest, authzv1.CreateRoleResponse>,

    updateRole: (async (request, { ctx }) => {
      const role = request.role;
      const updated = await bus.run(
        useCases.updateRole,
        {
          name: role?.name ?? '',
          description: role?.description ?? '',
          permissions: role?.permissions ?? [],
          inherits: role?.inherits ?? [],
          updateMask: request.updateMask ?? [],
        },
        ctx,
      );
      return { role: toProtoRole(updated.value), revision: updated.revision };
    }) satisfies Handler<authzv1.UpdateRoleRequest, authzv1.UpdateRoleResponse>,

    deleteRole: (async (request, { ctx }) => {
      return { revision: await bus.run(useCases.deleteRole, { name: request.name }, ctx) };
    }) satisfies Handler<authzv1.DeleteRoleRequest, authzv1.DeleteRoleResponse>,

    getRole: (async (request, { ctx }) => ({
      role: toProtoRole(await bus.run(useCases.getRole, { name: request.name }, ctx)),
    })) satisfies Handler<authzv1.GetRoleRequest, authzv1.GetRoleResponse>,

    listRoles: (async (request, { ctx }) => {
      const page = await bus.run(useCases.listRoles, request, ctx);
      return { roles: page.roles.map(toProtoRole), nextPageToken: page.nextPageToken };
    }) satisfies Handler<authzv1.ListRolesRequest, authzv1.ListRolesResponse>,

    lookupSubjects: (async (request, { ctx }) => {
      const resource = fromProtoResource(request.resource);
      const page = await bus.run(
        useCases.lookupSubjects,
        {
          permission: request.permission,
          ...(resource ? { resource } : {}),
          aal2: isAal2(request.assuranceLevel),
          pageSize: request.pageSize,
          pageToken: request.pageToken,
          ...(request.minRevision ? { minRevision: request.minRevision } : {}),
        },
        ctx,
      );
      return page;
    }) satisfies Handler<authzv1.LookupSubjectsRequest, authzv1.LookupSubjectsResponse>,

    planPermission: (async (request, { ctx }) => {
      const planned = await bus.run(
        useCases.planPermission,
        {
          subjectId: request.subjectId,
          permission: request.permission,
          resourceType: request.resourceType,
          aal2: isAal2(request.assuranceLevel),
          ...(request.minRevision ? { minRevision: request.minRevision } : {}),
        },
        ctx,
      );
      return {
        kind: PLAN_KINDS[planned.kind],
        ownerOnly: planned.ownerOnly,
        scopedResourceIds: planned.scopedResourceIds,
        stepUpRequired: planned.stepUpRequired,
        revision: planned.revision,
      };
    }) satisfies Handler<authzv1.PlanPermissionRequest, authzv1.PlanPermissionResponse>,

    listAuditEvents: (async (request, { ctx }) =>
      toProtoAuditPage(
        await bus.run(useCases.listAuditEvents, fromProtoListAuditEvents(request), ctx),
        'authz-service',
      )) satisfies Handler<authzv1.ListAuditEventsRequest, authzv1.ListAuditEventsResponse>,
  };
  return handlers satisfies Record<
    keyof typeof authzv1.AuthzServiceService,
    Handler<never, unknown>
  >;
}

function toCheck(request: authzv1.CheckPermissionRequest) {
  const resource = fromProtoResource(request.resource);
  return {
    subjectId: request.subjectId,
    permission: request.permission,
    ...(resource ? { resource } : {}),
    aal2: isAal2(request.assuranceLevel),
    ...(request.minRevision ? { minRevision: request.minRevision } : {}),
  };
}

/** Unspecified (a service, or a caller that does not know) is never AAL2. */
const isAal2 = (level: authzv1.AssuranceLevel | undefined): boolean =>
  level === authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2;

const PLAN_KINDS: Record<PlanKind, authzv1.PlanKind> = {
  ALWAYS_ALLOWED: authzv1.PlanKind.PLAN_KIND_ALWAYS_ALLOWED,
  ALWAYS_DENIED: authzv1.PlanKind.PLAN_KIND_ALWAYS_DENIED,
  CONDITIONAL: authzv1.PlanKind.PLAN_KIND_CONDITIONAL,
};

const toProtoDecision = (
  decision: Decision & { revision: number },
): authzv1.CheckPermissionResponse => ({
  allowed: decision.allowed,
  reason: decision.reason,
  stepUpRequired: decision.stepUpRequired === true,
  revision: decision.revision,
});
