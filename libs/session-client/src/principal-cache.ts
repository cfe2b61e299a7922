import type { UserPrincipal } from '@warden/bus';

interface Entry {
  principal: UserPrincipal;
  expiresAt: number;
}

/**
 * Resolved principals by token hash: least recently used out first, each entry with its own
 * expiry, and an index by session id so an event about a session drops every token of it.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysBySession = new Map<string, Set<string>>();

  constructor(private readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): UserPrincipal | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.delete(key, entry.principal.sessionId);
      return undefined;
    }
    // Re-insert so Map order stays least-recently-used first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.principal;
  }

  set(key: string, principal: UserPrincipal, expiresAt: number): void {
    const previous = this.entries.get(key);
    if (previous) this.delete(key, previous.principal.sessionId);
    this.entries.set(key, { principal, expiresAt });
    let keys = this.keysBySession.get(principal.sessionId);
    if (!keys) this.keysBySession.set(principal.sessionId, (keys = new Set()));
    keys.add(key);
    while (this.entries.size > this.maxEntries) {
      const [oldestKey, oldest] = this.entries.entries().next().value!;
      this.delete(oldestKey, oldest.principal.sessionId);
    }
  }

  dropSession(sessionId: string): void {
    const keys = this.keysBySession.get(sessionId);
    if (!keys) return;
    for (const key of keys) this.entries.delete(key);
    this.keysBySession.delete(sessionId);
  }

  clear(): void {
    this.entries.clear();
    this.keysBySession.clear();
  }

  private delete(key: string, sessionId: string): void {
    this.entries.delete(key);
    const keys = this.keysBySession.get(sessionId);
    keys?.delete(key);
    if (keys?.size === 0) this.keysBySession.delete(sessionId);
  }
}
