import { ADMIN_ROLE, newAssignment } from '../../domain/index.js';
import type { BootstrapAdmins } from '../bootstrap-admins.js';
import type { AuthzRepository, Clock } from '../ports.js';
import { assigning } from './assign-role.js';

/**
 * `authz.bootstrap_admins` for users who exist already (listed after registering, or by user id):
 * at worker start, each entry never granted before whose user exists (by email: with the email
 * verified, unless configured otherwise) gets admin (with its event) and is recorded, so a later
 * revocation sticks. A user holding admin already is only recorded.
 * Users who register later get it from their `registered` event instead.
 */
export class PromoteExistingAdmins {
  constructor(
    private readonly repository: AuthzRepository,
    private readonly bootstrap: BootstrapAdmins,
    private readonly clock: Clock,
  ) {}

  /** Returns the user ids it made admin. */
  async run(): Promise<string[]> {
    const promoted: string[] = [];
    for (const entry of await this.bootstrap.ungranted()) {
      const userId = await this.bootstrap.userOf(entry);
      if (!userId) continue;
      const now = this.clock.now();
      const admin = newAssignment({ subjectId: userId, role: ADMIN_ROLE }, now);
      const assigned = await this.repository.updateSubject(
        userId,
        ({ held, roles }) =>
          held.some((a) => a.role === ADMIN_ROLE && !a.expireTime)
            ? { events: [], result: false }
            : { ...assigning(admin, roles), result: true },
        { claim: { entry: entry.key, subjectId: userId, grantTime: now } },
      );
      this.bootstrap.markGranted(entry.key);
      if (assigned) promoted.push(userId);
    }
    return promoted;
  }
}
