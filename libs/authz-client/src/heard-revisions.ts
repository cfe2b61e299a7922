import { authzEventsV1 } from '@warden/proto';

/** The authz revision an event carries; 0 when it has none (an older publisher) or will not decode. */
export function eventRevision(subject: string, payload: Uint8Array): number {
  try {
    switch (subject) {
      case 'warden.authz.v1.role_assigned':
        return authzEventsV1.RoleAssigned.decode(payload).revision;
      case 'warden.authz.v1.role_revoked':
        return authzEventsV1.RoleRevoked.decode(payload).revision;
      case 'warden.authz.v1.role_created':
        return authzEventsV1.RoleCreated.decode(payload).revision;
      case 'warden.authz.v1.role_updated':
        return authzEventsV1.RoleUpdated.decode(payload).revision;
      case 'warden.authz.v1.role_deleted':
        return authzEventsV1.RoleDeleted.decode(payload).revision;
      default:
        return 0;
    }
  } catch {
    return 0;
  }
}

/** Revisions heard above a missing one before the missing one counts as lost. */
const MAX_AHEAD = 10_000;

/**
 * The revisions of the authz events a decision cache has applied since it last started afresh:
 * every revision in (`start`, `revision`] was heard (each event clears what it may change), so a
 * decision that reflected revision r >= `start`, and was stored before any revision above r was
 * heard, still reflects every revision up to `revision`: a lookup asking for one of them may be
 * answered by it. After `reset` (a gap, an event without a revision, a revision lost) nothing is
 * vouched for until the next event starts the count again.
 */
export class HeardRevisions {
  private start: number | undefined;
  private current = 0;
  /** The highest revision heard since the reset: what a decision stored now must be at least. */
  private highestHeard = 0;
  private readonly ahead = new Set<number>();

  /** The highest revision heard so far (0 after a reset); stored with each decision. */
  get highest(): number {
    return this.highestHeard;
  }

  /**
   * Records an applied event's revision; false when the count had to start over (an event
   * without one, or a revision lost). Decisions stored before stay sound: a restarted count
   * vouches only for ones at or above its new start.
   */
  heard(revision: number): boolean {
    if (!Number.isSafeInteger(revision) || revision <= 0) {
      this.reset();
      return false;
    }
    if (this.start === undefined) {
      this.start = revision - 1;
      this.current = revision - 1;
    }
    if (revision > this.highestHeard) this.highestHeard = revision;
    if (revision <= this.current) return true;
    this.ahead.add(revision);
    while (this.ahead.delete(this.current + 1)) this.current++;
    if (this.ahead.size <= MAX_AHEAD) return true;
    this.reset();
    return false;
  }

  reset(): void {
    this.start = undefined;
    this.current = 0;
    this.highestHeard = 0;
    this.ahead.clear();
  }

  /**
   * Whether a decision that reflected `revision`, stored when `heardAtStore` was the highest
   * revision heard, reflects `minRevision` too.
   */
  vouches(revision: number, heardAtStore: number, minRevision: number): boolean {
    return (
      this.start !== undefined &&
      heardAtStore <= revision &&
      this.start <= revision &&
      minRevision <= this.current
    );
  }
}
