import { readPage, type Page, type PageRequest, type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import { scopeViolations, type RoleAssignment, type Scope } from '../../domain/index.js';
import { requireRoleName, requireSubject } from '../fields.js';
import type { AuthzRepository, Clock } from '../ports.js';

export interface ListRoleAssignments extends PageRequest {
  subjectId: string;
  role: string;
  /** Only assignments on this scope; unset for any (scoped and unscoped). */
  scope?: Scope;
}

export type AssignmentPage = Page<'assignments', RoleAssignment>;

/**
 * A scope as one part of a page token's position: `type:id` (a type holds no `:`), and `:` for
 * none (unscoped sorts first).
 */
const scopeKey = (scope: Scope | undefined): string => `${scope?.type ?? ''}:${scope?.id ?? ''}`;
function scopeOfKey(key: string): Scope | undefined {
  const colon = key.indexOf(':');
  const type = colon < 0 ? key : key.slice(0, colon);
  return type === '' ? undefined : { type, id: colon < 0 ? '' : key.slice(colon + 1) };
}

/**
 * Unexpired assignments by subject, by role, by scope, any of them or none, ordered by subject_id,
 * role, then scope (unscoped first).
 */
export class ListRoleAssignmentsHandler implements UseCase<ListRoleAssignments, AssignmentPage> {
  readonly name = 'ListRoleAssignments';
  readonly readOnly = true;
  readonly access = permissionOn<ListRoleAssignments>('role.read');

  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
  ) {}

  async execute(input: ListRoleAssignments): Promise<AssignmentPage> {
    const violations = new Violations();
    if (input.subjectId !== '') requireSubject(violations, 'subject_id', input.subjectId);
    if (input.role !== '') requireRoleName(violations, 'role', input.role);
    const scope = input.scope && { type: input.scope.type, id: input.scope.id };
    for (const { field, description } of scope ? scopeViolations(scope) : [])
      violations.add(field, description);
    violations.throwIfAny();
    const { items: assignments, nextPageToken } = await readPage(input, {
      scope: `assignments:${input.subjectId}:${input.role}:${scope ? scopeKey(scope) : '*'}`,
      key: ['key', 'key', 'key'],
      read: (after, count) => {
        const afterScope = after && scopeOfKey(after[2]);
        return this.repository.listAssignments({
          ...(input.subjectId ? { subjectId: input.subjectId } : {}),
          ...(input.role ? { role: input.role } : {}),
          ...(scope ? { scope } : {}),
          ...(after
            ? {
                after: {
                  subjectId: after[0],
                  role: after[1],
                  ...(afterScope ? { scope: afterScope } : {}),
                },
              }
            : {}),
          limit: count,
          now: this.clock.now(),
        });
      },
      keyOf: (assignment) => [assignment.subjectId, assignment.role, scopeKey(assignment.scope)],
    });
    return { assignments, nextPageToken };
  }
}
