import { roleRevoked, type AuthzEvent } from '../../domain/index.js';
import type { AuthzRepository, Clock, EventReceipt } from '../ports.js';

/** On `warden.user.v1.deleted`, applied once per `inbox` entry (the consumed event). */
export interface RemoveSubject {
  userId: string;
  inbox: EventReceipt;
  traceparent?: string;
}

/** The user's assignments go (scoped and bound ones too), each with a RoleRevoked (SUBJECT_DELETED). */
export class RemoveSubjectHandler {
  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
  ) {}

  /** The events written; undefined when the inbox entry was seen before. */
  execute(command: RemoveSubject): Promise<AuthzEvent[] | undefined> {
    const { userId: subjectId, inbox, traceparent } = command;
    return this.repository.updateSubject(
      subjectId,
      ({ held }) => {
        const occurTime = this.clock.now();
        const events: AuthzEvent[] = held.map((assignment) =>
          roleRevoked(assignment, 'SUBJECT_DELETED', occurTime),
        );
        return { deleteAssignments: held, events, result: events };
      },
      { inbox, traceparent },
    );
  }
}
