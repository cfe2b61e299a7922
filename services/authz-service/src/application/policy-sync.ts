import { RoleCatalogue, type AuthzEvent, type RoleAssignment } from '../domain/index.js';
import type { Clock, PolicyChangeListener, PolicySource } from './ports.js';
import type { PolicyModel } from './policy-model.js';

/** What an authz event means for the model: one subject's assignments, or the catalogue, changed. */
export type PolicyChange = { kind: 'subject'; subjectId: string } | { kind: 'catalogue' };

export function changesOf(events: readonly AuthzEvent[]): PolicyChange[] {
  return events.map((event) =>
    event.type === 'role_assigned'
      ? { kind: 'subject', subjectId: event.assignment.subjectId }
      : event.type === 'role_revoked'
        ? { kind: 'subject', subjectId: event.subjectId }
        : { kind: 'catalogue' },
  );
}

/**
 * Keeps a PolicyModel current by re-reading what changed from the database (events say what,
 * the database says how it is now, so events may arrive late, twice or out of order).
 * Every read takes a ticket; a result older than what the model already shows is dropped.
 */
export class PolicySync implements PolicyChangeListener {
  private ticket = 0;
  /** Ticket of the last full load: older reads of any subject are stale. */
  private floor = 0;
  private catalogueTicket = 0;
  private readonly subjectTickets = new Map<string, number>();

  constructor(
    private readonly model: PolicyModel,
    private readonly source: PolicySource,
    private readonly clock: Clock,
    private readonly onError: (error: unknown, change: string) => void,
  ) {}

  /** Loads roles and every unexpired assignment; at start, and as a periodic safety net. */
  async loadAll(): Promise<void> {
    const ticket = ++this.ticket;
    const snapshot = await this.source.snapshot(this.clock.now());
    this.applyCatalogue(ticket, new RoleCatalogue(snapshot.roles));
    const loaded = groupBySubject(snapshot.assignments);
    for (const subjectId of new Set([...this.model.subjectIds(), ...loaded.keys()])) {
      if ((this.subjectTickets.get(subjectId) ?? 0) <= ticket)
        this.model.replaceSubject(subjectId, loaded.get(subjectId) ?? []);
    }
    this.floor = ticket;
    for (const [subjectId, seen] of this.subjectTickets)
      if (seen <= ticket) this.subjectTickets.delete(subjectId);
  }

  async changed(changes: readonly PolicyChange[]): Promise<void> {
    const subjects = new Set<string>();
    let catalogue = false;
    for (const change of changes) {
      if (change.kind === 'catalogue') catalogue = true;
      else subjects.add(change.subjectId);
    }
    const work: Array<Promise<void>> = [...subjects].map((subjectId) =>
      this.refreshSubject(subjectId).catch((error: unknown) =>
        this.onError(error, `subject ${subjectId}`),
      ),
    );
    if (catalogue)
      work.push(
        this.refreshCatalogue().catch((error: unknown) => this.onError(error, 'catalogue')),
      );
    await Promise.all(work);
  }

  async committed(events: readonly AuthzEvent[]): Promise<void> {
    await this.changed(changesOf(events));
  }

  private async refreshSubject(subjectId: string): Promise<void> {
    const ticket = ++this.ticket;
    const assignments = await this.source.assignmentsOf(subjectId);
    if (ticket <= Math.max(this.floor, this.subjectTickets.get(subjectId) ?? 0)) return;
    this.subjectTickets.set(subjectId, ticket);
    this.model.replaceSubject(subjectId, assignments);
  }

  private async refreshCatalogue(): Promise<void> {
    const ticket = ++this.ticket;
    const roles = await this.source.allRoles();
    this.applyCatalogue(ticket, new RoleCatalogue(roles));
  }

  private applyCatalogue(ticket: number, catalogue: RoleCatalogue): void {
    if (ticket <= this.catalogueTicket) return;
    this.catalogueTicket = ticket;
    // Subjects that just lost a deleted role's assignments must not get them back from an older read.
    for (const subjectId of this.model.replaceCatalogue(catalogue))
      this.subjectTickets.set(subjectId, ticket);
  }
}

function groupBySubject(assignments: readonly RoleAssignment[]): Map<string, RoleAssignment[]> {
  const grouped = new Map<string, RoleAssignment[]>();
  for (const assignment of assignments) {
    const list = grouped.get(assignment.subjectId);
    if (list) list.push(assignment);
    else grouped.set(assignment.subjectId, [assignment]);
  }
  return grouped;
}
