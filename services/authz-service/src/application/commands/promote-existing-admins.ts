import { ADMIN_ROLE, newAssignment } from '../../domain/index.js';
import type { BootstrapAdmins, BootstrapEntry, UserLookup } from '../bootstrap-admins.js';
import type { AuthzRepository, Clock } from '../ports.js';
import { assignIn } from './assign-role.js';

/**
 * `authz.bootstrap_admins` for users who exist already (listed after registering, or by user id):
 * at worker start, each entry never granted before whose user exists gets admin (with its event)
 * and is recorded, so a later revocation sticks. A user holding admin already is only recorded.
 * Users who register later get it from their `registered` event instead.
 */
export class PromoteExistingAdmins {
  constructor(
    private readonly repository: AuthzRepository,
    private readonly users: UserLookup,
    private readonly bootstrap: BootstrapAdmins,
    private readonly clock: Clock,
  ) {}

  /** Returns the user ids it made admin. */
  async run(): Promise<string[]> {
    const promoted: string[] = [];
    for (const entry of await this.bootstrap.ungranted()) {
      const userId = await this.userOf(entry);
      if (!userId) continue;
      const holds = await this.repository.listAssignments({
        subjectId: userId,
        role: ADMIN_ROLE,
        limit: 1,
        now: this.clock.now(),
      });
      const holdsForever = holds.some((assignment) => !assignment.expireTime);
      const now = this.clock.now();
      const assigned = await this.repository.transaction(async (tx) => {
        if (
          !(await tx.claimBootstrapGrant({ entry: entry.key, subjectId: userId, grantTime: now }))
        )
          return false;
        if (holdsForever) return false;
        await assignIn(tx, newAssignment({ subjectId: userId, role: ADMIN_ROLE }, now));
        return true;
      });
      this.bootstrap.markGranted(entry.key);
      if (assigned) promoted.push(userId);
    }
    return promoted;
  }

  private async userOf(entry: BootstrapEntry): Promise<string | undefined> {
    if (entry.kind === 'email') return this.users.findUserIdByEmail(entry.email);
    return (await this.users.emailOf(entry.userId)) === undefined ? undefined : entry.userId;
  }
}
