import type { AuthzEvent, HolderSlice, Role, RoleAssignment, Scope } from '../domain/index.js';

export interface Clock {
  now(): Date;
}

/** One assignment: a subject's role on a scope (unset: the unscoped one). */
export interface AssignmentKey {
  subjectId: string;
  role: string;
  scope?: Scope;
}

/**
 * What one write changes. The repository writes it, with `events` in the outbox, in one
 * transaction: all of it or, when `decide` throws, nothing. Every state change is announced by an
 * event, and the events take the write's revisions: the repository stamps each event's
 * `revision` in that transaction (see application/revisions.ts); a change without events takes
 * none.
 */
export interface AuthzChange<T> {
  /** Inserted, or replacing the role of that name. */
  saveRoles?: readonly Role[];
  /** Deleted with every assignment of them. */
  deleteRoles?: readonly string[];
  /**
   * Inserted, or replacing the times and session binding of the one held already on the same
   * scope; a missing role is ROLE_NOT_FOUND.
   */
  saveAssignments?: readonly RoleAssignment[];
  deleteAssignments?: readonly AssignmentKey[];
  events: readonly AuthzEvent[];
  /** What the update returns. */
  result: T;
}

/** The catalogue as a change sees it: read in its transaction, after the catalogue lock. */
export interface CatalogueState {
  roles: Role[];
  /**
   * Whether a subject holds one of `roles` unscoped at `now`, `except` left out (lapsed and
   * scoped assignments do not count).
   */
  hasActiveHolder(roles: readonly string[], now: Date, except?: AssignmentKey): Promise<boolean>;
  /** Every assignment the subject holds, lapsed ones too. */
  assignmentsOf(subjectId: string): Promise<RoleAssignment[]>;
}

/** A subject as a change sees it, read in its transaction. */
export interface SubjectState {
  /** Every assignment the subject holds, lapsed ones too, by role then scope; locked until commit. */
  held: RoleAssignment[];
  roles: Role[];
  /**
   * With the `boundSession` option: whether that session is known to have ended (a session event
   * recorded it). Read under the session's lock, which the session-ended write takes too.
   */
  sessionEnded?: boolean;
}

/** Carried into the events a write records, so a trace continues across NATS. */
export interface WriteOptions {
  traceparent?: string;
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
  /** Only assignments on this scope (unset: any scope, and unscoped ones). */
  scope?: Scope;
  /** Keyset: only assignments after this (subject_id, role, scope; unscoped first). */
  after?: AssignmentKey;
  limit: number;
  /** Lapsed assignments (expire_time <= now) are left out. */
  now: Date;
}

/**
 * What the policy model reads: the whole catalogue (small), and one subject's assignments at a
 * time (one indexed read, on a cache miss or an event about a cached subject). Never all of them.
 */
export interface PolicySource {
  allRoles(): Promise<Role[]>;
  /**
   * The revision of the latest committed authz write (0 before any): state read after this
   * returns reflects at least it.
   */
  currentRevision(): Promise<number>;
  /** Every assignment the subject holds, lapsed ones too, ordered by role then scope. */
  assignmentsOf(subjectId: string): Promise<RoleAssignment[]>;
  /**
   * {@link assignmentsOf} for several subjects in one read (cache misses that arrive together);
   * a subject holding nothing is absent from the result.
   */
  assignmentsOfMany?(subjectIds: readonly string[]): Promise<Map<string, RoleAssignment[]>>;
}

/** A durable consumer's record that it applied one event (the inbox key). */
export interface EventReceipt {
  consumer: string;
  eventId: string;
}

/** A session that ended or expired, as a session event told. */
export interface EndedSession {
  sessionId: string;
  endTime: Date;
}

export interface AuthzRepository extends PolicySource {
  /**
   * Takes the catalogue lock (one catalogue change at a time, across processes; revocations of
   * roles granting `*` take it too), runs `decide` on the catalogue and writes what it returns.
   */
  updateCatalogue<T>(
    decide: (catalogue: CatalogueState) => Promise<AuthzChange<T>>,
    options?: WriteOptions,
  ): Promise<T>;
  /**
   * Runs `decide` on the subject's assignments and writes what it returns. With `inbox`, once per
   * entry; with `claim`, once per bootstrap entry, whoever claims it: `undefined`, with nothing
   * written, when the entry is there already.
   */
  updateSubject<T>(
    subjectId: string,
    decide: (subject: SubjectState) => AuthzChange<T>,
    options?: WriteOptions & {
      inbox?: EventReceipt;
      claim?: BootstrapGrant;
      /**
       * The session a grant is being bound to: the change takes that session's lock (before the
       * subject's rows) and `decide` sees `sessionEnded`.
       */
      boundSession?: string;
    },
  ): Promise<T | undefined>;
  /**
   * Records that `ended` ended (kept until {@link forgetEndedSessions}) and removes every
   * assignment bound to it, with the events `announce` gives for them, under the session's lock;
   * once per `receipt`: undefined, with nothing written, when the receipt is already there.
   */
  endSession(
    receipt: EventReceipt,
    ended: EndedSession,
    now: Date,
    announce: (lapsed: RoleAssignment) => AuthzEvent,
    options?: WriteOptions,
  ): Promise<RoleAssignment[] | undefined>;
  /** Drops up to `limit` ended-session records made before `before`; returns how many. */
  forgetEndedSessions(before: Date, limit: number): Promise<number>;
  /**
   * Removes up to `limit` assignments lapsed at `now`, earliest first, skipping rows another
   * sweeper holds, with the events `announce` gives for them; returns the removed ones.
   */
  expireDue(
    now: Date,
    limit: number,
    announce: (lapsed: RoleAssignment) => AuthzEvent,
  ): Promise<RoleAssignment[]>;
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
    options?: WriteOptions,
  ): Promise<boolean>;
  findRole(name: string): Promise<Role | undefined>;
  /** The bootstrap-admin entries granted so far (their keys). */
  bootstrapGrants(): Promise<string[]>;
  /** Roles ordered by name, after `afterName` when given. */
  listRoles(page: { afterName?: string; limit: number }): Promise<Role[]>;
  /** Unexpired assignments ordered by subject_id, role, then scope (unscoped first). */
  listAssignments(filter: AssignmentFilter): Promise<RoleAssignment[]>;
  /**
   * The subjects holding, unexpired at `now`, an assignment in one of `slices`, after `after`,
   * ordered by subject_id, each once, at most `limit`: LookupSubjects' page, read from the index
   * by (role, scope, subject_id) as one bounded range per slice, never a scan of the holders.
   */
  holdersOf(query: HolderQuery): Promise<string[]>;
}

/** What LookupSubjects reads: the slices that allow, and one keyset page of their holders. */
export interface HolderQuery {
  slices: readonly HolderSlice[];
  /** Keyset: only subject ids after this one. */
  after?: string;
  limit: number;
  now: Date;
}

/** Every grant a subject holds now, after inheritance, as written (`*`, `user.*`, `x.y:own`). */
export interface GrantsHeld {
  /** With `scope`, the grants held on that scope count too (a scoped admin delegating there). */
  grantsHeldBy(subjectId: string, scope?: Scope): readonly string[] | Promise<readonly string[]>;
}

/** Told about committed events, so this process's policy model need not wait for NATS. */
export interface PolicyChangeListener {
  committed(events: readonly AuthzEvent[]): Promise<void>;
}

export const NO_POLICY_LISTENER: PolicyChangeListener = { committed: async () => undefined };

/** A session as AssignRole needs it to bind a grant: whose it is, and whether it is active. */
export interface SessionInfo {
  userId: string;
  /** Not ended and not past either expiry. */
  active: boolean;
  /** The absolute expiry: a grant bound to the session lapses no later. */
  expireTime?: Date;
}

/** Session-service as authz asks it; fails SESSIONS_UNAVAILABLE when it cannot answer. */
export interface SessionDirectory {
  /** The session, or undefined when there is no such session. */
  findSession(sessionId: string): Promise<SessionInfo | undefined>;
}
