import { authzv1 } from '@warden/proto';
import type { ResourceRef, Role, RoleAssignment } from './domain/index.js';

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
  };
}

/** Proto leaves absent strings empty; the domain reads an empty owner as no owner. */
export function fromProtoResource(resource: authzv1.Resource | undefined): ResourceRef | undefined {
  return resource ? { type: resource.type, id: resource.id, ownerId: resource.ownerId } : undefined;
}
