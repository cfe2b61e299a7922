import {
  builtInRoles,
  compareScopes,
  isActive,
  sameScope,
  type AuthzEvent,
  type Role,
  type RoleAssignment,
} from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import type {
  AssignmentFilter,
  AssignmentKey,
  AuthzRepository,
  BootstrapGrant,
  CatalogueState,
  EndedSession,
  EventReceipt,
  AuthzChange,
  HolderQuery,
  SubjectState,
} from '../../application/ports.js';
import { stampRevisions } from '../../application/revisions.js';

interface State {
  roles: Map<string, Role>;
  assignments: Map<string, RoleAssignment>;
  processed: Set<string>;
  bootstrapGrants: Map<string, BootstrapGrant>;
  /** Ended sessions by id, with when they were recorded. */
  endedSessions: Map<string, Date>;
  outbox: AuthzEvent[];
  /** The last revision taken (one per event recorded). */
  revision: number;
}

const keyOf = (key: AssignmentKey): string =>
  [key.subjectId, key.role, key.scope?.type ?? '', key.scope?.id ?? ''].join('\u0000');
const byName = (a: Role, b: Role): number => compare(a.name, b.name);
const byKey = (a: AssignmentKey, b: AssignmentKey): number =>
  compare(a.subjectId, b.subjectId) || compare(a.role, b.role) || compareScopes(a.scope, b.scope);
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The repository in memory, for unit and component tests. Transactions run one at a time on a
 * copy of the state that replaces it only on success, so a failed command leaves nothing behind.
 */
export class MemoryAuthzRepository implements AuthzRepository {
  private state: State;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(roles: Role[] = builtInRoles(new Date(0))) {
    this.state = {
      roles: new Map(roles.map((r) => [r.name, r])),
      assignments: new Map(),
      processed: new Set(),
      bootstrapGrants: new Map(),
      endedSessions: new Map(),
      outbox: [],
      revision: 0,
    };
  }

  /** Events committed so far, as the relay would publish them. */
  get outbox(): readonly AuthzEvent[] {
    return this.state.outbox;
  }

  updateCatalogue<T>(decide: (catalogue: CatalogueState) => Promise<AuthzChange<T>>): Promise<T> {
    return this.inTransaction(async (draft) => {
      const assignments = () => [...draft.assignments.values()];
      const change = await decide({
        roles: [...draft.roles.values()],
        hasActiveHolder: async (roles, now, except) =>
          assignments().some(
            (a) =>
              roles.includes(a.role) &&
              a.scope === undefined &&
              isActive(a, now) &&
              (except === undefined || keyOf(a) !== keyOf(except)),
          ),
        assignmentsOf: async (subjectId) => heldBy(draft, subjectId),
      });
      return write(draft, change);
    });
  }

  updateSubject<T>(
    subjectId: string,
    decide: (subject: SubjectState) => AuthzChange<T>,
    options: { inbox?: EventReceipt; claim?: BootstrapGrant; boundSession?: string } = {},
  ): Promise<T | undefined> {
    return this.inTransaction(async (draft) => {
      if (options.inbox && !markProcessed(draft, options.inbox)) return undefined;
      if (options.claim) {
        if (draft.bootstrapGrants.has(options.claim.entry)) return undefined;
        draft.bootstrapGrants.set(options.claim.entry, options.claim);
      }
      const { boundSession } = options;
      const change = decide({
        held: heldBy(draft, subjectId),
        roles: [...draft.roles.values()],
        ...(boundSession === undefined
          ? {}
          : { sessionEnded: draft.endedSessions.has(boundSession) }),
      });
      return write(draft, change);
    });
  }

  endSession(
    receipt: EventReceipt,
    ended: EndedSession,
    now: Date,
    announce: (lapsed: RoleAssignment) => AuthzEvent,
  ): Promise<RoleAssignment[] | undefined> {
    return this.inTransaction(async (draft) => {
      if (!markProcessed(draft, receipt)) return undefined;
      if (!draft.endedSessions.has(ended.sessionId)) draft.endedSessions.set(ended.sessionId, now);
      const lapsed = [...draft.assignments.values()]
        .filter((a) => a.boundSessionId === ended.sessionId)
        .sort(byKey);
      write(draft, { deleteAssignments: lapsed, events: lapsed.map(announce), result: undefined });
      return lapsed;
    });
  }

  forgetEndedSessions(before: Date, limit: number): Promise<number> {
    return this.inTransaction(async (draft) => {
      const old = [...draft.endedSessions]
        .filter(([, recordTime]) => recordTime.getTime() < before.getTime())
        .sort(([, x], [, y]) => x.getTime() - y.getTime())
        .slice(0, limit);
      for (const [sessionId] of old) draft.endedSessions.delete(sessionId);
      return old.length;
    });
  }

  expireDue(
    now: Date,
    limit: number,
    announce: (lapsed: RoleAssignment) => AuthzEvent,
  ): Promise<RoleAssignment[]> {
    return this.inTransaction(async (draft) => {
      const lapsed = [...draft.assignments.values()]
        .filter((a) => !isActive(a, now))
        .sort((a, b) => a.expireTime!.getTime() - b.expireTime!.getTime())
        .slice(0, limit);
      write(draft, { deleteAssignments: lapsed, events: lapsed.map(announce), result: undefined });
      return lapsed;
    });
  }

  assignOnce(
    receipt: EventReceipt,
    assignments: readonly RoleAssignment[],
    events: readonly AuthzEvent[],
  ): Promise<boolean> {
    return this.inTransaction(async (draft) => {
      if (!markProcessed(draft, receipt)) return false;
      write(draft, { saveAssignments: assignments, events, result: undefined });
      return true;
    });
  }

  /** Runs `fn` on a copy of the state that replaces it when `fn` returns, one at a time. */
  private inTransaction<T>(fn: (draft: State) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const draft: State = {
        roles: new Map(this.state.roles),
        assignments: new Map(this.state.assignments),
        processed: new Set(this.state.processed),
        bootstrapGrants: new Map(this.state.bootstrapGrants),
        endedSessions: new Map(this.state.endedSessions),
        outbox: [...this.state.outbox],
        revision: this.state.revision,
      };
      const result = await fn(draft);
      this.state = draft;
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async findRole(name: string): Promise<Role | undefined> {
    return this.state.roles.get(name);
  }

  async bootstrapGrants(): Promise<string[]> {
    return [...this.state.bootstrapGrants.keys()].sort();
  }

  async listRoles(page: { afterName?: string; limit: number }): Promise<Role[]> {
    return [...this.state.roles.values()]
      .filter((role) => page.afterName === undefined || role.name > page.afterName)
      .sort(byName)
      .slice(0, page.limit);
  }

  async listAssignments(filter: AssignmentFilter): Promise<RoleAssignment[]> {
    return [...this.state.assignments.values()]
      .filter(
        (a) =>
          isActive(a, filter.now) &&
          (filter.subjectId === undefined || a.subjectId === filter.subjectId) &&
          (filter.role === undefined || a.role === filter.role) &&
          (filter.scope === undefined ||
            (a.scope !== undefined && compareScopes(a.scope, filter.scope) === 0)) &&
          (filter.after === undefined || byKey(a, filter.after) > 0),
      )
      .sort(byKey)
      .slice(0, filter.limit);
  }

  async currentRevision(): Promise<number> {
    return this.state.revision;
  }

  async allRoles(): Promise<Role[]> {
    return [...this.state.roles.values()];
  }

  /** A scan here; Postgres reads the index by (role, scope, subject_id) instead. */
  async holdersOf(query: HolderQuery): Promise<string[]> {
    const holders = new Set<string>();
    for (const a of this.state.assignments.values()) {
      if (!isActive(a, query.now) || (query.after !== undefined && a.subjectId <= query.after))
        continue;
      const inSlice = query.slices.some(
        (slice) =>
          slice.role === a.role &&
          sameScope(slice.scope, a.scope) &&
          (slice.subjectId === undefined || slice.subjectId === a.subjectId),
      );
      if (inSlice) holders.add(a.subjectId);
    }
    return [...holders].sort(compare).slice(0, query.limit);
  }

  async assignmentsOf(subjectId: string): Promise<RoleAssignment[]> {
    return [...this.state.assignments.values()]
      .filter((a) => a.subjectId === subjectId)
      .sort(byKey);
  }

  async assignmentsOfMany(subjectIds: readonly string[]): Promise<Map<string, RoleAssignment[]>> {
    const wanted = new Set(subjectIds);
    const bySubject = new Map<string, RoleAssignment[]>();
    for (const a of [...this.state.assignments.values()].sort(byKey)) {
      if (!wanted.has(a.subjectId)) continue;
      const held = bySubject.get(a.subjectId);
      if (held) held.push(a);
      else bySubject.set(a.subjectId, [a]);
    }
    return bySubject;
  }
}

function write<T>(draft: State, change: AuthzChange<T>): T {
  for (const key of change.deleteAssignments ?? []) draft.assignments.delete(keyOf(key));
  for (const name of change.deleteRoles ?? []) {
    draft.roles.delete(name);
    for (const [key, assignment] of draft.assignments)
      if (assignment.role === name) draft.assignments.delete(key);
  }
  for (const role of change.saveRoles ?? []) draft.roles.set(role.name, role);
  for (const assignment of change.saveAssignments ?? []) {
    if (!draft.roles.has(assignment.role)) throw roleNotFound(assignment.role);
    draft.assignments.set(keyOf(assignment), assignment);
  }
  if (change.events.length > 0) {
    draft.revision += change.events.length;
    stampRevisions(change.events, draft.revision);
  }
  draft.outbox.push(...change.events);
  return change.result;
}

function markProcessed(draft: State, receipt: EventReceipt): boolean {
  const key = `${receipt.consumer}\u0000${receipt.eventId}`;
  if (draft.processed.has(key)) return false;
  draft.processed.add(key);
  return true;
}

const heldBy = (draft: State, subjectId: string): RoleAssignment[] =>
  [...draft.assignments.values()].filter((a) => a.subjectId === subjectId).sort(byKey);
