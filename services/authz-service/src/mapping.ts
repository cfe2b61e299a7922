import { currentAuditScope } from '@warden/bus';
import { envelopeFor, type EventEnvelope } from '@warden/events';
import { authzEventsV1, authzv1 } from '@warden/proto';
import type { PolicyChange } from './application/policy-sync.js';
import { authzAuditOf } from './audit-mapping.js';
import type {
  AuthzEvent,
  ResourceRef,
  RevokeReason,
  Role,
  RoleAssignment,
  Scope,
  ScopedAccess,
} from './domain/index.js';

export function toProtoRole(role: Role): authzv1.Role {
  return {
    name: role.name,
    description: role.description,
    permissions: [...role.permissions],
    inherits: [...role.inherits],
    builtIn: role.builtIn,
    createTime: role.createTime,
    updateTime: role.updateTime,
  };
}

export function toProtoAssignment(assignment: RoleAssignment): authzv1.RoleAssignment {
  return {
    subjectId: assignment.subjectId,
    role: assignment.role,
    expireTime: assignment.expireTime,
    createTime: assignment.createTime,
    scope: assignment.scope && toProtoScope(assignment.scope),
    boundSessionId: assignment.boundSessionId ?? '',
  };
}

export const toProtoScope = (scope: Scope): authzv1.Scope => ({ type: scope.type, id: scope.id });

/** A request's scope: unset stays unset (unscoped); a set one is taken as given, to be validated. */
export const fromProtoScope = (scope: authzv1.Scope | undefined): Scope | undefined =>
  scope ? { type: scope.type, id: scope.id } : undefined;

/** ListSubjectPermissions' answer: unscoped roles and grants, then one entry per scope. */
export const toProtoAccess = (access: {
  roles: string[];
  permissions: string[];
  scoped: readonly ScopedAccess[];
  revision: number;
}): authzv1.ListSubjectPermissionsResponse => ({
  roles: access.roles,
  permissions: access.permissions,
  scoped: access.scoped.map((entry) => ({
    scope: toProtoScope(entry.scope),
    roles: entry.roles,
    permissions: entry.permissions,
  })),
  revision: access.revision,
});

/** Proto leaves absent strings empty; the domain reads an empty owner as no owner. */
export function fromProtoResource(resource: authzv1.Resource | undefined): ResourceRef | undefined {
  return resource ? { type: resource.type, id: resource.id, ownerId: resource.ownerId } : undefined;
}

export const AUTHZ_SUBJECT_PREFIX = 'warden.authz.v1.';
export const AUTHZ_EVENTS = `${AUTHZ_SUBJECT_PREFIX}>`;
const authzEnvelope = envelopeFor({
  source: 'authz-service',
  subjectPrefix: AUTHZ_SUBJECT_PREFIX,
  context: currentAuditScope,
});

const REVOKE_REASONS: Record<RevokeReason, authzEventsV1.RoleRevokeReason> = {
  REVOKED: authzEventsV1.RoleRevokeReason.ROLE_REVOKE_REASON_REVOKED,
  EXPIRED: authzEventsV1.RoleRevokeReason.ROLE_REVOKE_REASON_EXPIRED,
  SUBJECT_DELETED: authzEventsV1.RoleRevokeReason.ROLE_REVOKE_REASON_SUBJECT_DELETED,
  SESSION_ENDED: authzEventsV1.RoleRevokeReason.ROLE_REVOKE_REASON_SESSION_ENDED,
};

/** A domain event as published: subject `warden.authz.v1.<type>`, protobuf payload, CloudEvents envelope. */
export function toEnvelope(event: AuthzEvent, traceparent?: string): EventEnvelope {
  const { payload, about } = encodePayload(event);
  return authzEnvelope(event.type, payload, {
    subjectId: about,
    time: event.occurTime,
    traceparent,
    audit: authzAuditOf(event),
  });
}

function encodePayload(event: AuthzEvent): { payload: Uint8Array; about: string } {
  switch (event.type) {
    case 'role_assigned': {
      const { subjectId, role, expireTime, scope, boundSessionId } = event.assignment;
      return {
        about: subjectId,
        payload: authzEventsV1.RoleAssigned.encode({
          subjectId,
          role,
          expireTime,
          occurTime: event.occurTime,
          scope: scope && toProtoScope(scope),
          boundSessionId: boundSessionId ?? '',
          revision: event.revision ?? 0,
        }).finish(),
      };
    }
    case 'role_revoked':
      return {
        about: event.subjectId,
        payload: authzEventsV1.RoleRevoked.encode({
          subjectId: event.subjectId,
          role: event.role,
          reason: REVOKE_REASONS[event.reason],
          occurTime: event.occurTime,
          scope: event.scope && toProtoScope(event.scope),
          revision: event.revision ?? 0,
        }).finish(),
      };
    case 'role_created':
      return {
        about: event.role.name,
        payload: authzEventsV1.RoleCreated.encode({
          role: toProtoRole(event.role),
          occurTime: event.occurTime,
          revision: event.revision ?? 0,
        }).finish(),
      };
    case 'role_updated':
      return {
        about: event.role.name,
        payload: authzEventsV1.RoleUpdated.encode({
          role: toProtoRole(event.role),
          updateMask: [...event.changed],
          occurTime: event.occurTime,
          revision: event.revision ?? 0,
        }).finish(),
      };
    case 'role_deleted':
      return {
        about: event.name,
        payload: authzEventsV1.RoleDeleted.encode({
          name: event.name,
          occurTime: event.occurTime,
          revision: event.revision ?? 0,
        }).finish(),
      };
  }
}

/**
 * What a published authz event means for a policy model, with the event's revision (left out when
 * 0: a publisher that predates revisions); undefined for subjects it does not know.
 */
export function policyChangeOf(subject: string, payload: Uint8Array): PolicyChange | undefined {
  switch (subject) {
    case `${AUTHZ_SUBJECT_PREFIX}role_assigned`: {
      const { subjectId, revision } = authzEventsV1.RoleAssigned.decode(payload);
      return { kind: 'subject', subjectId, ...revisionOf(revision) };
    }
    case `${AUTHZ_SUBJECT_PREFIX}role_revoked`: {
      const { subjectId, revision } = authzEventsV1.RoleRevoked.decode(payload);
      return { kind: 'subject', subjectId, ...revisionOf(revision) };
    }
    case `${AUTHZ_SUBJECT_PREFIX}role_created`:
      return {
        kind: 'catalogue',
        dropsAssignments: false,
        ...revisionOf(authzEventsV1.RoleCreated.decode(payload).revision),
      };
    case `${AUTHZ_SUBJECT_PREFIX}role_updated`:
      return {
        kind: 'catalogue',
        dropsAssignments: false,
        ...revisionOf(authzEventsV1.RoleUpdated.decode(payload).revision),
      };
    case `${AUTHZ_SUBJECT_PREFIX}role_deleted`:
      return {
        kind: 'catalogue',
        dropsAssignments: true,
        ...revisionOf(authzEventsV1.RoleDeleted.decode(payload).revision),
      };
    default:
      return undefined;
  }
}

const revisionOf = (revision: number): { revision?: number } => (revision > 0 ? { revision } : {});
