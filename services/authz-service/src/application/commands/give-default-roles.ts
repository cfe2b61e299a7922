import { invalidArgument } from '@warden/errors';
import { ADMIN_ROLE, isUserSubject, newAssignment, type AuthzEvent } from '../../domain/index.js';
import type { AuthzTransaction, Clock } from '../ports.js';
import { assignIn } from './assign-role.js';

export interface UserRegistered {
  userId: string;
  email: string;
}

export interface DefaultRoles {
  /** Every new user gets it (`authz.default_role`). */
  defaultRole: string;
  /** Users registering with one of these emails also get `admin` (normalized: trimmed, lower-case). */
  bootstrapAdmins: readonly string[];
}

/** On `warden.user.v1.registered`: the default role, and admin for a bootstrap email. */
export class GiveDefaultRoles {
  private readonly admins: ReadonlySet<string>;

  constructor(
    private readonly clock: Clock,
    private readonly roles: DefaultRoles,
  ) {
    this.admins = new Set(roles.bootstrapAdmins.map(normalizeEmail));
  }

  /** Runs inside the consumer's transaction, which also records the event as processed. */
  async applyIn(tx: AuthzTransaction, user: UserRegistered): Promise<AuthzEvent[]> {
    if (!isUserSubject(user.userId)) {
      throw invalidArgument([{ field: 'user_id', description: `not a user id: ${user.userId}` }]);
    }
    const now = this.clock.now();
    const roles = [this.roles.defaultRole];
    if (this.admins.has(normalizeEmail(user.email)) && !roles.includes(ADMIN_ROLE))
      roles.push(ADMIN_ROLE);
    const events: AuthzEvent[] = [];
    for (const role of roles)
      events.push(...(await assignIn(tx, newAssignment({ subjectId: user.userId, role }, now))));
    return events;
  }
}

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();
