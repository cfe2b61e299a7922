import {
  builtInRoles,
  isActive,
  type AuthzEvent,
  type Role,
  type RoleAssignment,
} from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import type {
  AssignmentFilter,
  AssignmentKey,
  AuthzRepository,
  AuthzTransaction,
  BootstrapGrant,
  EventReceipt,
  PolicySnapshot,
} from '../../application/ports.js';

interface State {
  roles: Map<string, Role>;
  assignments: Map<string, RoleAssignment>;
  processed: Set<string>;
  bootstrapGrants: Map<string, BootstrapGrant>;
  outbox: AuthzEvent[];
}

const keyOf = (key: AssignmentKey): string => `${key.subjectId}\u0000${key.role}`;
const byName = (a: Role, b: Role): number => compare(a.name, b.name);
const bySubjectThenRole = (a: RoleAssignment, b: RoleAssignment): number =>
  compare(a.subjectId, b.subjectId) || compare(a.role, b.role);
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
      outbox: [],
    };
  }

  /** Events committed so far, as the relay would publish them. */
  get outbox(): readonly AuthzEvent[] {
    return this.state.outbox;
  }

  transaction<T>(fn: (tx: AuthzTransaction) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const draft: State = {
        roles: new Map(this.state.roles),
        assignments: new Map(this.state.assignments),
        processed: new Set(this.state.processed),
        bootstrapGrants: new Map(this.state.bootstrapGrants),
        outbox: [...this.state.outbox],
      };
      const result = await fn(new MemoryTransaction(draft));
      this.state = draft;
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  assignOnce(
    receipt: EventReceipt,
    assignments: readonly RoleAssignment[],
    events: readonly AuthzEvent[],
  ): Promise<boolean> {
    return this.transaction(async (tx) => {
      if (!(await tx.markProcessed(receipt.consumer, receipt.eventId))) return false;
      for (const assignment of assignments) await tx.saveAssignment(assignment);
      await tx.record(events);
      return true;
    });
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
          (filter.after === undefined ||
            a.subjectId > filter.after.subjectId ||
            (a.subjectId === filter.after.subjectId && a.role > filter.after.role)),
      )
      .sort(bySubjectThenRole)
      .slice(0, filter.limit);
  }

  async snapshot(now: Date): Promise<PolicySnapshot> {
    return {
      roles: [...this.state.roles.values()],
      assignments: [...this.state.assignments.values()].filter((a) => isActive(a, now)),
    };
  }

  async allRoles(): Promise<Role[]> {
    return [...this.state.roles.values()];
  }

  async assignmentsOf(subjectId: string): Promise<RoleAssignment[]> {
    return [...this.state.assignments.values()]
      .filter((a) => a.subjectId === subjectId)
      .sort(bySubjectThenRole);
  }
}

class MemoryTransaction implements AuthzTransaction {
  constructor(private readonly state: State) {}

  async lockCatalogue(): Promise<void> {
    // Transactions already run one at a time.
  }

  async roles(): Promise<Role[]> {
    return [...this.state.roles.values()];
  }

  async findRole(name: string): Promise<Role | undefined> {
    return this.state.roles.get(name);
  }

  async insertRole(role: Role): Promise<void> {
    if (this.state.roles.has(role.name)) throw new Error(`duplicate role ${role.name}`);
    this.state.roles.set(role.name, role);
  }

  async updateRole(role: Role): Promise<void> {
    if (!this.state.roles.has(role.name)) throw roleNotFound(role.name);
    this.state.roles.set(role.name, role);
  }

  async deleteRole(name: string): Promise<void> {
    this.state.roles.delete(name);
    for (const [key, assignment] of this.state.assignments)
      if (assignment.role === name) this.state.assignments.delete(key);
  }

  async saveAssignment(assignment: RoleAssignment): Promise<void> {
    if (!this.state.roles.has(assignment.role)) throw roleNotFound(assignment.role);
    this.state.assignments.set(keyOf(assignment), assignment);
  }

  async deleteAssignment(key: AssignmentKey): Promise<boolean> {
    return this.state.assignments.delete(keyOf(key));
  }

  async deleteAssignmentsOf(subjectId: string): Promise<RoleAssignment[]> {
    const removed = [...this.state.assignments.values()]
      .filter((a) => a.subjectId === subjectId)
      .sort(bySubjectThenRole);
    for (const assignment of removed) this.state.assignments.delete(keyOf(assignment));
    return removed;
  }

  async hasActiveHolder(roles: readonly string[], now: Date): Promise<boolean> {
    return [...this.state.assignments.values()].some(
      (a) => roles.includes(a.role) && isActive(a, now),
    );
  }

  async takeLapsedAssignments(now: Date, limit: number): Promise<RoleAssignment[]> {
    const lapsed = [...this.state.assignments.values()]
      .filter((a) => !isActive(a, now))
      .sort((a, b) => a.expireTime!.getTime() - b.expireTime!.getTime())
      .slice(0, limit);
    for (const assignment of lapsed) this.state.assignments.delete(keyOf(assignment));
    return lapsed;
  }

  async markProcessed(consumer: string, eventId: string): Promise<boolean> {
    const key = `${consumer}\u0000${eventId}`;
    if (this.state.processed.has(key)) return false;
    this.state.processed.add(key);
    return true;
  }

  async claimBootstrapGrant(grant: BootstrapGrant): Promise<boolean> {
    if (this.state.bootstrapGrants.has(grant.entry)) return false;
    this.state.bootstrapGrants.set(grant.entry, grant);
    return true;
  }

  async record(events: readonly AuthzEvent[]): Promise<void> {
    this.state.outbox.push(...events);
  }
}
