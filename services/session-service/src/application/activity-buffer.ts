import type { Activity } from './ports.js';

/** The latest activity per session since the last flush: many validations, one row update. */
export class ActivityBuffer {
  private pending = new Map<string, Activity>();

  get size(): number {
    return this.pending.size;
  }

  record(sessionId: string, lastSeenTime: Date, idleExpireTime: Date): void {
    const previous = this.pending.get(sessionId);
    if (previous && previous.lastSeenTime >= lastSeenTime) return;
    this.pending.set(sessionId, { sessionId, lastSeenTime, idleExpireTime });
  }

  peek(sessionId: string): Activity | undefined {
    return this.pending.get(sessionId);
  }

  drain(): Activity[] {
    if (this.pending.size === 0) return [];
    const batch = [...this.pending.values()];
    this.pending = new Map();
    return batch;
  }

  /** Puts back a batch that could not be written, unless newer activity arrived meanwhile. */
  restore(batch: readonly Activity[]): void {
    for (const activity of batch)
      this.record(activity.sessionId, activity.lastSeenTime, activity.idleExpireTime);
  }
}
