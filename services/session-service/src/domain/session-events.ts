import type { Session } from './session.js';

/** What happened to a session; the session is its state right after. */
export type SessionEventKind = 'started' | 'refreshed' | 'ended' | 'expired';

export interface SessionChange {
  session: Session;
  /** Absent for a change that emits nothing (activity). */
  event?: SessionEventKind;
  /** The token hash this change replaced (a refresh), remembered to recognize its replay. */
  rotatedTokenHash?: string;
}
