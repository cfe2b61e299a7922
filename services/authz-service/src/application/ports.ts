import type { AuthzEvent, Role, RoleAssignment } from '../domain/index.js';

export interface Clock {
  now(): Date;
}

export interface AssignmentKey {
  subjectId: string;
  role: string;
}

/** One transaction: state changes and the events they cause commit together, or not at all. */
export interface AuthzTransaction {
  /** Serializes role-catalogue changes across processes (inheritance checks read the whole catalogue). */
  lockCatalogue(): Promise<void>;
  roles(): Promise<Role[]>;
  findRole(name: string): Promise<Role | undefined>;
  insertRole(role: Role): Promise<void>;
  updateRole(role: Role): Promise<void>;
  /** Deletes the role and every assignment of it. */
  deleteRole(name: string): Promise<void>;
  /** Inserts, or replaces the expire_time and create_time of an existing assignment. */
  saveAssignment(assignment: RoleAssignment): Promise<void>;
  deleteAssignment(key: AssignmentKey): Promise<boolean>;
  deleteAssignmentsOf(subjectId: string): Promise<RoleAssignment[]>;
  /** Whether any subject holds one of `roles` at `now` (lapsed assignments do not count). */
  hasActiveHolder(roles: readonly string[], now: Date): Promise<boolean>;
  /** Removes up to `limit` assignments lapsed at `now`, skipping rows another sweeper holds. */
  takeLapsedAssignments(now: Date, limit: number): Promise<RoleAssignment[]>;
  /** Records that `consumer` applied `eventId`; false when it already had. */
  markProcessed(consumer: string, eventId: string): Promise<boolean>;
  /** Records that a bootstrap-admin entry was granted; false when it had been already (by anyone). */
  claimBootstrapGrant(grant: BootstrapGrant): Promise<boolean>;
  /** Writes events to the outbox, published after commit. */
  record(events: readonly AuthzEvent[]): Promise<void>;
}

/** One `authz.bootstrap_admins` entry, granted once: kept after a revocation or the user's deletion. */
export interface BootstrapGrant {
  /** The entry's key (`user:<id>`, or `email-sha256:<hex>` so no email is stored). */
  entry: string;
  subjectId: string;
  grantTime: Date;
}

export interface AssignmentFilter {
  subjectId?: string;
  role?: string;
  /** Keyset: only assignments after this (subject_id, role). */
  after?: AssignmentKey;
  limit: number;
  /** Lapsed assignments (expire_time <= now) are left out. */
  now: Date;
}

/** Everything the in-memory policy model needs, read consistently. */
export interface PolicySnapshot {
  roles: Role[];
  assignments: RoleAssignment[];
}

export interface PolicySource {
  snapshot(now: Date): Promise<PolicySnapshot>;
  allRoles(): Promise<Role[]>;
  assignmentsOf(subjectId: string): Promise<RoleAssignment[]>;
}

/** Carried into the events a transaction records, so a trace continues across NATS. */
export interface TraceContext {
  traceparent?: string;
}

/** A durable consumer's record that it applied one event (the inbox key). */
export interface EventReceipt {
  consumer: string;
  eventId: string;
}

export interface AuthzRepository extends PolicySource {
  transaction<T>(fn: (tx: AuthzTransaction) => Promise<T>, trace?: TraceContext): Promise<T>;
  /**
   * Saves `assignments` (inserting, or replacing an existing one's times) and records `events`
   * together with `receipt`, all or nothing, once per receipt: false, with nothing written, when
   * the receipt is already there. A missing role is ROLE_NOT_FOUND with nothing written.
   * The default-role consumer's write, made for every registration: adapters do it in one round
   * trip where they can.
   */
  assignOnce(
    receipt: EventReceipt,
    assignments: readonly RoleAssignment[],
    events: readonly AuthzEvent[],
    trace?: TraceContext,
  ): Promise<boolean>;
  findRole(name: string): Promise<Role | undefined>;
  /** The bootstrap-admin entries granted so far (their keys). */
  bootstrapGrants(): Promise<string[]>;
  /** Roles ordered by name, after `afterName` when given. */
  listRoles(page: { afterName?: string; limit: number }): Promise<Role[]>;
  /** Unexpired assignments ordered by subject_id, then role. */
  listAssignments(filter: AssignmentFilter): Promise<RoleAssignment[]>;
}

/** Every grant a subject holds now, after inheritance, as written (`*`, `user.*`, `x.y:own`). */
export interface GrantsHeld {
  grantsHeldBy(subjectId: string): readonly string[];
}

/** Told about committed events, so this process's policy model need not wait for NATS. */
export interface PolicyChangeListener {
  committed(events: readonly AuthzEvent[]): Promise<void>;
}

export const NO_POLICY_LISTENER: PolicyChangeListener = { committed: async () => undefined };
