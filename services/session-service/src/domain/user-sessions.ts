import type { SessionChange } from './session-events.js';
import { end, isActiveAt, type EndReason, type Session } from './session.js';

const oldestFirst = (a: Session, b: Session): number =>
  a.createTime.getTime() - b.createTime.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Ends the oldest active sessions so that one more fits under `maxPerUser`. */
export function makeRoomForOneMore(
  sessions: readonly Session[],
  now: Date,
  maxPerUser: number,
): SessionChange[] {
  const active = sessions.filter((s) => isActiveAt(s, now)).sort(oldestFirst);
  const excess = active.length - (maxPerUser - 1);
  return endAll(active.slice(0, Math.max(0, excess)), 'REPLACED_BY_LIMIT', now);
}

/** Ends every active session but `exceptSessionId` (when given). */
export function endAllExcept(
  sessions: readonly Session[],
  exceptSessionId: string | undefined,
  reason: EndReason,
  now: Date,
): SessionChange[] {
  return endAll(
    sessions.filter((s) => s.id !== exceptSessionId),
    reason,
    now,
  );
}

function endAll(sessions: readonly Session[], reason: EndReason, now: Date): SessionChange[] {
  const changes: SessionChange[] = [];
  for (const session of sessions) {
    const ended = end(session, reason, now);
    if (ended) changes.push({ session: ended, event: 'ended' });
  }
  return changes;
}
