import { invalidArgument } from '@warden/errors';
import {
  ADMIN_ROLE,
  isUserSubject,
  newAssignment,
  roleAssigned,
  type AuthzEvent,
} from '../../domain/index.js';
import type { BootstrapAdmins } from '../bootstrap-admins.js';
import type { AuthzRepository, Clock, EventReceipt } from '../ports.js';
import { assigning } from './assign-role.js';

/** On `warden.user.v1.registered`, applied once per `inbox` entry (the consumed event). */
export interface GiveDefaultRoles {
  userId: string;
  inbox: EventReceipt;
  traceparent?: string;
}

export interface DefaultRoles {
  /** Every new user gets it (`authz.default_role`). */
  defaultRole: string;
}

/** On `warden.user.v1.email_verified`: a bootstrap entry by email may match the user now. */
export interface GrantVerifiedBootstrapAdmin {
  userId: string;
  traceparent?: string;
}

/**
 * The default role, and admin when the user matches a `bootstrap_admins` entry not granted
 * before (each entry grants once, recorded with the role). An entry by email matches only once
 * the email is verified: at registration for a user imported verified, else at `email_verified`.
 */
export class GiveDefaultRolesHandler {
  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly roles: DefaultRoles,
    private readonly bootstrap?: BootstrapAdmins,
  ) {}

  /**
   * Gives the default role once per inbox entry, with its event, in one write; then a matching
   * bootstrap entry's admin role with the entry's record. Returns the events written (none for an
   * entry seen before and no grant). ROLE_NOT_FOUND (nothing written) when a configured role has
   * been deleted. A failed user lookup throws after the default role: the redelivered event then
   * only retries the grant, which its record keeps to once.
   */
  async execute(command: GiveDefaultRoles): Promise<AuthzEvent[]> {
    const { userId, traceparent } = command;
    if (!isUserSubject(userId)) {
      throw invalidArgument([{ field: 'user_id', description: `not a user id: ${userId}` }]);
    }
    const now = this.clock.now();
    const base = newAssignment({ subjectId: userId, role: this.roles.defaultRole }, now);
    const given = [roleAssigned(base)];
    const applied = await this.repository.assignOnce(command.inbox, [base], given, { traceparent });
    const events = applied ? given : [];
    // After the default role, so that asking user-service never delays it.
    return [...events, ...(await this.grantBootstrapAdmin(userId, now, traceparent))];
  }

  /**
   * A user's email was verified: admin if they match an email entry not granted yet. Repeated
   * (a redelivered event) it grants nothing more: the entry's record keeps it to once.
   */
  async afterEmailVerified(command: GrantVerifiedBootstrapAdmin): Promise<AuthzEvent[]> {
    if (!isUserSubject(command.userId)) {
      throw invalidArgument([
        { field: 'user_id', description: `not a user id: ${command.userId}` },
      ]);
    }
    return this.grantBootstrapAdmin(command.userId, this.clock.now(), command.traceparent);
  }

  private async grantBootstrapAdmin(
    userId: string,
    now: Date,
    traceparent: string | undefined,
  ): Promise<AuthzEvent[]> {
    const entry = await this.bootstrap?.entryFor(userId);
    if (entry === undefined) return [];
    const granted = await this.repository.updateSubject(
      userId,
      ({ roles }) => assigning(newAssignment({ subjectId: userId, role: ADMIN_ROLE }, now), roles),
      { traceparent, claim: { entry, subjectId: userId, grantTime: now } },
    );
    this.bootstrap?.markGranted(entry);
    return granted ?? [];
  }
}
