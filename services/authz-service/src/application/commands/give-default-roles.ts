import { invalidArgument } from '@warden/errors';
import {
  ADMIN_ROLE,
  isUserSubject,
  newAssignment,
  roleAssigned,
  type AuthzEvent,
} from '../../domain/index.js';
import type { BootstrapAdmins } from '../bootstrap-admins.js';
import type { AuthzRepository, Clock, EventReceipt, TraceContext } from '../ports.js';
import { assignIn } from './assign-role.js';

export interface UserRegistered {
  userId: string;
}

export interface DefaultRoles {
  /** Every new user gets it (`authz.default_role`). */
  defaultRole: string;
}

/**
 * On `warden.user.v1.registered`: the default role, and admin when the user matches a
 * `bootstrap_admins` entry not granted before (each entry grants once, recorded with the role).
 */
export class GiveDefaultRoles {
  constructor(
    private readonly clock: Clock,
    private readonly roles: DefaultRoles,
    private readonly bootstrap?: BootstrapAdmins,
  ) {}

  /**
   * Gives the default role once per `receipt` (the consumed event), with its event, in one write;
   * then a matching bootstrap entry's admin role with the entry's record. Returns the events
   * written (none for a receipt already there and no grant). ROLE_NOT_FOUND (nothing written)
   * when a configured role has been deleted. A failed user lookup throws after the default role:
   * the redelivered event then only retries the grant, which its record keeps to once.
   */
  async apply(
    repository: AuthzRepository,
    receipt: EventReceipt,
    user: UserRegistered,
    trace?: TraceContext,
  ): Promise<AuthzEvent[]> {
    if (!isUserSubject(user.userId)) {
      throw invalidArgument([{ field: 'user_id', description: `not a user id: ${user.userId}` }]);
    }
    const now = this.clock.now();
    const base = newAssignment({ subjectId: user.userId, role: this.roles.defaultRole }, now);
    const given = [roleAssigned(base)];
    const events = (await repository.assignOnce(receipt, [base], given, trace)) ? given : [];
    // After the default role, so that asking user-service never delays it.
    const entry = await this.bootstrap?.entryFor(user.userId);
    if (entry === undefined) return events;
    const granted = await repository.transaction(async (tx) => {
      const grant = { entry, subjectId: user.userId, grantTime: now };
      if (!(await tx.claimBootstrapGrant(grant))) return [];
      return assignIn(tx, newAssignment({ subjectId: user.userId, role: ADMIN_ROLE }, now));
    }, trace);
    this.bootstrap?.markGranted(entry);
    return [...events, ...granted];
  }
}
