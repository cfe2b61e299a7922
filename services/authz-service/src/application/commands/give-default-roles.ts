import { invalidArgument } from '@warden/errors';
import {
  ADMIN_ROLE,
  isUserSubject,
  newAssignment,
  roleAssigned,
  type AuthzEvent,
  type RoleAssignment,
} from '../../domain/index.js';
import type { AuthzRepository, Clock, EventReceipt, TraceContext } from '../ports.js';

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

  /**
   * Gives the roles once per `receipt` (the consumed event): the assignments, their `role_assigned`
   * events and the receipt commit together. Returns the events, or none when the receipt was
   * already there. ROLE_NOT_FOUND (nothing written) when a configured role has been deleted.
   */
  async apply(
    repository: AuthzRepository,
    receipt: EventReceipt,
    user: UserRegistered,
    trace?: TraceContext,
  ): Promise<AuthzEvent[]> {
    const assignments = this.assignmentsFor(user);
    const events = assignments.map(roleAssigned);
    return (await repository.assignOnce(receipt, assignments, events, trace)) ? events : [];
  }

  private assignmentsFor(user: UserRegistered): RoleAssignment[] {
    if (!isUserSubject(user.userId)) {
      throw invalidArgument([{ field: 'user_id', description: `not a user id: ${user.userId}` }]);
    }
    const now = this.clock.now();
    const roles = [this.roles.defaultRole];
    if (this.admins.has(normalizeEmail(user.email)) && !roles.includes(ADMIN_ROLE))
      roles.push(ADMIN_ROLE);
    return roles.map((role) => newAssignment({ subjectId: user.userId, role }, now));
  }
}

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();
