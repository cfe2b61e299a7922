import type { RoleAssignment, Scope } from './assignment.js';
import type { Role, RoleField } from './role.js';

export type RevokeReason = 'REVOKED' | 'EXPIRED' | 'SUBJECT_DELETED' | 'SESSION_ENDED';

/**
 * Where an event sits in the order of authz writes: the repository stamps it in the transaction
 * that writes the event (each event of a write its own, contiguous and increasing in commit
 * order); unset until then.
 */
export interface Revisioned {
  revision?: number;
}

/** What authz tells the world; each becomes an outbox row in the transaction that caused it. */
export type AuthzEvent = Revisioned &
  (
    | { type: 'role_assigned'; assignment: RoleAssignment; occurTime: Date }
    | {
        type: 'role_revoked';
        subjectId: string;
        role: string;
        /** The revoked assignment's scope; unset for the unscoped one. */
        scope?: Scope;
        reason: RevokeReason;
        occurTime: Date;
      }
    | { type: 'role_created'; role: Role; occurTime: Date }
    | { type: 'role_updated'; role: Role; changed: readonly RoleField[]; occurTime: Date }
    | { type: 'role_deleted'; name: string; occurTime: Date }
  );

/** The event of giving `assignment`, dated by it. */
export const roleAssigned = (assignment: RoleAssignment): AuthzEvent => ({
  type: 'role_assigned',
  assignment,
  occurTime: assignment.createTime,
});

/** The event of losing `assignment` for `reason` at `occurTime`, naming its scope. */
export const roleRevoked = (
  assignment: Pick<RoleAssignment, 'subjectId' | 'role' | 'scope'>,
  reason: RevokeReason,
  occurTime: Date,
): AuthzEvent => ({
  type: 'role_revoked',
  subjectId: assignment.subjectId,
  role: assignment.role,
  ...(assignment.scope === undefined ? {} : { scope: assignment.scope }),
  reason,
  occurTime,
});
