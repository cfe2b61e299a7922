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
   * Gives the roles once per `receipt` (the consumed event): the assignments, their `role_assigned`
   * events, a bootstrap grant's record and the receipt commit together. Returns the events, or none
   * when the receipt was already there. ROLE_NOT_FOUND (nothing written) when a configured role has
   * been deleted; a failed user lookup throws, so the event is retried.
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
    const entry = await this.bootstrap?.entryFor(user.userId);
    const now = this.clock.now();
    const base = newAssignment({ subjectId: user.userId, role: this.roles.defaultRole }, now);
    if (entry === undefined) {
      const events = [roleAssigned(base)];
      return (await repository.assignOnce(receipt, [base], events, trace)) ? events : [];
    }
    const events = await repository.transaction(async (tx) => {
      if (!(await tx.markProcessed(receipt.consumer, receipt.eventId))) return [];
      const given = await assignIn(tx, base);
      const grant = { entry, subjectId: user.userId, grantTime: now };
      if ((await tx.claimBootstrapGrant(grant)) && base.role !== ADMIN_ROLE)
        given.push(
          ...(await assignIn(tx, newAssignment({ subjectId: user.userId, role: ADMIN_ROLE }, now))),
        );
      return given;
    }, trace);
    this.bootstrap?.markGranted(entry);
    return events;
  }
}
