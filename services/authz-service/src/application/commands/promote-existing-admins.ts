import { ADMIN_ROLE, newAssignment } from '../../domain/index.js';
import type { AuthzRepository, Clock } from '../ports.js';
import { assignIn } from './assign-role.js';
import { normalizeEmail } from './give-default-roles.js';

/** Finds a user id by exact (normalized) email, through user-service; undefined if none. */
export interface UserLookup {
  findUserIdByEmail(email: string): Promise<string | undefined>;
}

/**
 * `authz.bootstrap_admins` for users who registered before their email was listed: at worker
 * start, each listed email that belongs to a user without `admin` gets it (with its event).
 * Users who register later get it from their `registered` event instead.
 */
export class PromoteExistingAdmins {
  constructor(
    private readonly repository: AuthzRepository,
    private readonly users: UserLookup,
    private readonly clock: Clock,
  ) {}

  /** Returns the user ids it made admin. */
  async run(emails: readonly string[]): Promise<string[]> {
    const promoted: string[] = [];
    for (const email of new Set(emails.map(normalizeEmail))) {
      const userId = await this.users.findUserIdByEmail(email);
      if (!userId) continue;
      const holds = await this.repository.listAssignments({
        subjectId: userId,
        role: ADMIN_ROLE,
        limit: 1,
        now: this.clock.now(),
      });
      if (holds.some((assignment) => !assignment.expireTime)) continue;
      await this.repository.transaction((tx) =>
        assignIn(tx, newAssignment({ subjectId: userId, role: ADMIN_ROLE }, this.clock.now())),
      );
      promoted.push(userId);
    }
    return promoted;
  }
}
