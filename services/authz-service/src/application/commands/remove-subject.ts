import type { AuthzEvent } from '../../domain/index.js';
import type { AuthzTransaction, Clock } from '../ports.js';

/** On `warden.user.v1.deleted`: the user's assignments go, each with a RoleRevoked (SUBJECT_DELETED). */
export class RemoveSubject {
  constructor(private readonly clock: Clock) {}

  async applyIn(tx: AuthzTransaction, subjectId: string): Promise<AuthzEvent[]> {
    const removed = await tx.deleteAssignmentsOf(subjectId);
    const occurTime = this.clock.now();
    const events: AuthzEvent[] = removed.map((assignment) => ({
      type: 'role_revoked',
      subjectId,
      role: assignment.role,
      reason: 'SUBJECT_DELETED',
      occurTime,
    }));
    await tx.record(events);
    return events;
  }
}
