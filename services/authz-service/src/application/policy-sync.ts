import { RoleCatalogue, type AuthzEvent } from '../domain/index.js';
import type { PolicyChangeListener, PolicySource } from './ports.js';
import type { PolicyModel } from './policy-model.js';

/**
 * What an authz event means for the model: one subject's assignments changed, or the catalogue
 * did (`dropsAssignments` when a role went, taking its assignments with it).
 */
export type PolicyChange =
  { kind: 'subject'; subjectId: string } | { kind: 'catalogue'; dropsAssignments: boolean };

export function changesOf(events: readonly AuthzEvent[]): PolicyChange[] {
  return events.map((event) =>
    event.type === 'role_assigned'
      ? { kind: 'subject', subjectId: event.assignment.subjectId }
      : event.type === 'role_revoked'
        ? { kind: 'subject', subjectId: event.subjectId }
        : { kind: 'catalogue', dropsAssignments: event.type === 'role_deleted' },
  );
}

/**
 * Keeps a PolicyModel current from authz events (events say what changed, the database says how
 * it is now, so events may arrive late, twice or out of order). A subject this process holds is
 * dropped at once (its read in flight, if any, disowned) and read again; one it does not hold
 * needs nothing: its first check reads it. Nothing here ever reads every assignment.
 * Catalogue reads take a ticket; a result older than the catalogue shown is dropped.
 */
export class PolicySync implements PolicyChangeListener {
  private ticket = 0;
  private catalogueTicket = 0;

  constructor(
    private readonly model: PolicyModel,
    private readonly source: Pick<PolicySource, 'allRoles'>,
    private readonly onError: (error: unknown, change: string) => void,
  ) {}

  /** Reads the role catalogue: at start, and as a safety net behind the catalogue's events. */
  async loadCatalogue(): Promise<void> {
    const ticket = ++this.ticket;
    this.applyCatalogue(ticket, new RoleCatalogue(await this.source.allRoles()));
  }

  /** Events may have been missed (a gap in the feed): every cached subject goes, the catalogue is read. */
  async resync(): Promise<void> {
    this.model.forgetAllSubjects();
    await this.loadCatalogue();
  }

  /**
   * Whether the events can be heard. While not, nothing is cached (each check reads its subject),
   * so a revocation made meanwhile is seen at once rather than when the feed returns.
   */
  eventsConnected(connected: boolean): void {
    this.model.cacheSubjects(connected);
  }

  async changed(changes: readonly PolicyChange[]): Promise<void> {
    const subjects = new Set<string>();
    let catalogue = false;
    for (const change of changes) {
      if (change.kind === 'subject') subjects.add(change.subjectId);
      else {
        catalogue = true;
        // At once, before the catalogue is read: no read from before the deletion is installed.
        if (change.dropsAssignments) this.model.forgetAllSubjects();
      }
    }
    const work: Array<Promise<void>> = [...subjects].map((subjectId) =>
      this.refreshSubject(subjectId).catch((error: unknown) =>
        this.onError(error, `subject ${subjectId}`),
      ),
    );
    if (catalogue)
      work.push(this.loadCatalogue().catch((error: unknown) => this.onError(error, 'catalogue')));
    await Promise.all(work);
  }

  async committed(events: readonly AuthzEvent[]): Promise<void> {
    await this.changed(changesOf(events));
  }

  private async refreshSubject(subjectId: string): Promise<void> {
    // Not held here (never asked about, or evicted): its next check reads it, nothing to do.
    if (!this.model.forgetSubject(subjectId)) return;
    await this.model.loadSubject(subjectId);
  }

  private applyCatalogue(ticket: number, catalogue: RoleCatalogue): void {
    if (ticket <= this.catalogueTicket) return;
    this.catalogueTicket = ticket;
    this.model.replaceCatalogue(catalogue);
  }
}
