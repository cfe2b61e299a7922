import type { AuthzRepository } from '../../src/application/ports.js';
import type { Role, RoleAssignment } from '../../src/domain/index.js';

/** Writes roles and assignments as they are, with no events: a test's starting state. */
export function seed(
  repository: AuthzRepository,
  state: { roles?: Role[]; assignments?: RoleAssignment[] },
): Promise<void> {
  return repository.updateCatalogue(async () => ({
    saveRoles: state.roles ?? [],
    saveAssignments: state.assignments ?? [],
    events: [],
    result: undefined,
  }));
}
