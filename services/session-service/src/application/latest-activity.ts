import type { Session } from '../domain/session.js';
import type { Activity } from './ports.js';

/**
 * A stored active session with the newest activity anyone here has seen: this process may hold
 * validations not yet flushed, and the database may hold another replica's.
 */
export function withLatestActivity(
  stored: Session,
  ...seen: Array<Pick<Activity, 'lastSeenTime' | 'idleExpireTime'> | undefined>
): Session {
  if (stored.status !== 'ACTIVE') return stored;
  let latest = stored;
  for (const activity of seen) {
    if (!activity || activity.idleExpireTime <= latest.idleExpireTime) continue;
    latest = {
      ...latest,
      lastSeenTime: activity.lastSeenTime,
      idleExpireTime: activity.idleExpireTime,
    };
  }
  return latest;
}
