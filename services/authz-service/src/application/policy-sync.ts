import { RoleCatalogue, type AuthzEvent } from '../domain/index.js';
import type { PolicyChangeListener, PolicySource } from './ports.js';
import type { PolicyModel } from './policy-model.js';
import { RevisionWatermark } from './revisions.js';

/**
 * What an authz event means for the model: one subject's assignments changed, or the catalogue
 * did (`dropsAssignments` when a role went, taking its assignments with it); `revision` is the
 * event's (absent from a publisher that predates revisions).
 */
export type PolicyChange = { revision?: number } & (
  { kind: 'subject'; subjectId: string } | { kind: 'catalogue'; dropsAssignments: boolean }
);

export function changesOf(events: readonly AuthzEvent[]): PolicyChange[] {
  return events.map((event): PolicyChange => {
    const revision = event.revision === undefined ? {} : { revision: event.revision };
    return event.type === 'role_assigned'
      ? { kind: 'subject', subjectId: event.assignment.subjectId, ...revision }
      : event.type === 'role_revoked'
        ? { kind: 'subject', subjectId: event.subjectId, ...revision }
        : { kind: 'catalogue', dropsAssignments: event.type === 'role_deleted', ...revision };
  });
}

/**
 * Keeps a PolicyModel current from authz events (events say what changed, the database says how
 * it is now, so events may arrive late, twice or out of order). A subject this process holds is
 * dropped at once (its read in flight, if any, disowned) and read again; one it does not hold
 * needs nothing: its first check reads it. Nothing here ever reads every assignment.
 * Catalogue reads take a ticket; a result older than the catalogue shown is dropped.
 *
 * `watermark` says how new the model is: a subject change's revision counts as applied once the
 * subject is forgotten (its next read is newer), a catalogue change's once a catalogue read
 * started after it has returned; a resync moves it to the revision read before everything was
 * read again.
 */
export class PolicySync implements PolicyChangeListener {
  readonly watermark: RevisionWatermark;
  private ticket = 0;
  private catalogueTicket = 0;
  /** Revisions of catalogue changes heard, applied when a catalogue read started after them returns. */
  private catalogueWaiting: number[] = [];
  /** The resync a lost event started, until it ends. */
  private resyncing: Promise<void> | undefined;

  constructor(
    private readonly model: PolicyModel,
    private readonly source: Pick<PolicySource, 'allRoles' | 'currentRevision'>,
    private readonly onError: (error: unknown, change: string) => void,
    watermark = new RevisionWatermark(),
  ) {
    this.watermark = watermark;
  }

  /** Reads the role catalogue: as a safety net behind the catalogue's events. */
  async loadCatalogue(): Promise<void> {
    const ticket = ++this.ticket;
    const covered = this.catalogueWaiting;
    this.catalogueWaiting = [];
    let roles;
    try {
      roles = await this.source.allRoles();
    } catch (error) {
      this.catalogueWaiting.push(...covered);
      throw error;
    }
    this.applyCatalogue(ticket, new RoleCatalogue(roles));
    this.markApplied(covered);
  }

  /**
   * At start, and when events may have been missed (a gap in the feed): every cached subject goes,
   * the catalogue is read, and the watermark moves to the revision the database had before.
   */
  async resync(): Promise<void> {
    this.model.forgetAllSubjects();
    const revision = await this.source.currentRevision();
    // Reads begun before the revision was read may predate it: disowned, as the catalogue read is newer.
    this.model.forgetAllSubjects();
    await this.loadCatalogue();
    this.watermark.baseline(revision);
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
    const subjectRevisions: number[] = [];
    let catalogue = false;
    for (const change of changes) {
      if (change.kind === 'subject') {
        subjects.add(change.subjectId);
        if (change.revision !== undefined) subjectRevisions.push(change.revision);
      } else {
        catalogue = true;
        if (change.revision !== undefined) this.catalogueWaiting.push(change.revision);
        // At once, before the catalogue is read: no read from before the deletion is installed.
        if (change.dropsAssignments) this.model.forgetAllSubjects();
      }
    }
    // Each subject is forgotten synchronously here, before its re-read: its next answer is newer.
    const work: Array<Promise<void>> = [...subjects].map((subjectId) =>
      this.refreshSubject(subjectId).catch((error: unknown) =>
        this.onError(error, `subject ${subjectId}`),
      ),
    );
    this.markApplied(subjectRevisions);
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

  private markApplied(revisions: readonly number[]): void {
    let lost = false;
    for (const revision of revisions) if (!this.watermark.applied(revision)) lost = true;
    if (!lost || this.resyncing) return;
    this.resyncing = this.resync()
      .catch((error: unknown) => this.onError(error, 'resync after a lost event'))
      .finally(() => {
        this.resyncing = undefined;
      });
  }

  private applyCatalogue(ticket: number, catalogue: RoleCatalogue): void {
    if (ticket <= this.catalogueTicket) return;
    this.catalogueTicket = ticket;
    this.model.replaceCatalogue(catalogue);
  }
}
