import { readPage, type Page, type PageRequest, type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import type { RoleAssignment } from '../../domain/index.js';
import { requireRoleName, requireSubject } from '../fields.js';
import type { AuthzRepository, Clock } from '../ports.js';

export interface ListRoleAssignments extends PageRequest {
  subjectId: string;
  role: string;
}

export type AssignmentPage = Page<'assignments', RoleAssignment>;

/** Unexpired assignments by subject, by role, both or neither, ordered by subject_id then role. */
export class ListRoleAssignmentsHandler implements UseCase<ListRoleAssignments, AssignmentPage> {
  readonly name = 'ListRoleAssignments';
  readonly access = permissionOn<ListRoleAssignments>('role.read');

  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
  ) {}

  async execute(input: ListRoleAssignments): Promise<AssignmentPage> {
    const violations = new Violations();
    if (input.subjectId !== '') requireSubject(violations, 'subject_id', input.subjectId);
    if (input.role !== '') requireRoleName(violations, 'role', input.role);
    violations.throwIfAny();
    const { items: assignments, nextPageToken } = await readPage(input, {
      scope: `assignments:${input.subjectId}:${input.role}`,
      key: ['key', 'key'],
      read: (after, count) =>
        this.repository.listAssignments({
          ...(input.subjectId ? { subjectId: input.subjectId } : {}),
          ...(input.role ? { role: input.role } : {}),
          ...(after ? { after: { subjectId: after[0], role: after[1] } } : {}),
          limit: count,
          now: this.clock.now(),
        }),
      keyOf: (assignment) => [assignment.subjectId, assignment.role],
    });
    return { assignments, nextPageToken };
  }
}
