import type { RoleAssignment } from './assignment.js';
import type { Role, RoleField } from './role.js';

export type RevokeReason = 'REVOKED' | 'EXPIRED' | 'SUBJECT_DELETED';

/** What authz tells the world; each becomes an outbox row in the transaction that caused it. */
export type AuthzEvent =
  | { type: 'role_assigned'; assignment: RoleAssignment; occurTime: Date }
  | { type: 'role_revoked'; subjectId: string; role: string; reason: RevokeReason; occurTime: Date }
  | { type: 'role_created'; role: Role; occurTime: Date }
  | { type: 'role_updated'; role: Role; changed: readonly RoleField[]; occurTime: Date }
  | { type: 'role_deleted'; name: string; occurTime: Date };

/** The event of giving `assignment`, dated by it. */
export const roleAssigned = (assignment: RoleAssignment): AuthzEvent => ({
  type: 'role_assigned',
  assignment,
  occurTime: assignment.createTime,
});
