import type { RevocationItem } from './types.js';

/** A user-wide revocation: tokens issued before `time` are refused, except those of `exceptSessionId`. */
interface UserRevocation {
  time: number;
  exceptSessionId: string;
}

/** What a checkpoint keeps of the state: plain JSON. */
export interface RevocationSnapshot {
  /** Tokens issued before this (ms) are refused: revocations before it may have been missed. */
  refuseIssuedBefore: number;
  sessions: Array<[sessionId: string, until: number]>;
  users: Array<[userId: string, revocations: UserRevocation[]]>;
}

/**
 * What the feed has said, kept as long as a token it concerns can live (`tokenLifetimeMs` after
 * the revocation), so memory is bounded by the revocations of one token lifetime.
 */
export class RevocationState {
  private refuseIssuedBefore = 0;
  private readonly sessions = new Map<string, number>();
  private readonly users = new Map<string, UserRevocation[]>();

  constructor(private readonly tokenLifetimeMs: number) {}

  apply(item: RevocationItem): void {
    const time = item.time.getTime();
    const until = time + this.tokenLifetimeMs;
    switch (item.kind) {
      case 'SESSION_ENDED':
      case 'SESSION_EXPIRED':
        this.sessions.set(item.sessionId, Math.max(until, this.sessions.get(item.sessionId) ?? 0));
        return;
      case 'PASSWORD_CHANGED':
        this.addUser(item.userId, { time, exceptSessionId: item.sessionId });
        return;
      case 'USER_DISABLED':
      case 'USER_DELETED':
      case 'ROLES_CHANGED':
        this.addUser(item.userId, { time, exceptSessionId: '' });
    }
  }

  /** Refuses every token issued before `time` (a feed gap: what happened is unknown). */
  refuseAllIssuedBefore(time: number): void {
    this.refuseIssuedBefore = Math.max(this.refuseIssuedBefore, time);
  }

  /**
   * Why a token (user, session, issued at `issuedAtMs`) must be refused, or undefined. `iat` has
   * whole seconds: a token issued in the same second as a revocation counts as before it.
   */
  revoked(userId: string, sessionId: string, issuedAtMs: number): string | undefined {
    if (issuedAtMs < this.refuseIssuedBefore) return 'issued before the revocation feed resumed';
    if (this.sessions.has(sessionId)) return 'the session ended';
    for (const r of this.users.get(userId) ?? [])
      if (issuedAtMs < r.time && r.exceptSessionId !== sessionId)
        return 'the user, their password or their roles changed after it was issued';
    return undefined;
  }

  /** Forgets revocations no token can be affected by any more. */
  prune(now: number): void {
    for (const [id, until] of this.sessions) if (until <= now) this.sessions.delete(id);
    for (const [id, list] of this.users) {
      const live = list.filter((r) => r.time + this.tokenLifetimeMs > now);
      if (live.length === 0) this.users.delete(id);
      else if (live.length !== list.length) this.users.set(id, live);
    }
  }

  get size(): number {
    return this.sessions.size + this.users.size;
  }

  snapshot(): RevocationSnapshot {
    return {
      refuseIssuedBefore: this.refuseIssuedBefore,
      sessions: [...this.sessions],
      users: [...this.users].map(([id, list]) => [id, list.map((r) => ({ ...r }))]),
    };
  }

  restore(snapshot: RevocationSnapshot): void {
    this.refuseIssuedBefore = snapshot.refuseIssuedBefore;
    this.sessions.clear();
    this.users.clear();
    for (const [id, until] of snapshot.sessions) this.sessions.set(id, until);
    for (const [id, list] of snapshot.users) this.users.set(id, list);
  }

  private addUser(userId: string, revocation: UserRevocation): void {
    const list = this.users.get(userId) ?? [];
    list.push(revocation);
    this.users.set(userId, list);
  }
}
