import type { UserByEmail, UserLookup } from '../../src/application/bootstrap-admins.js';

/**
 * user-service's directory as a table of email -> user id (emails verified unless marked
 * otherwise), remembering what it was asked.
 */
export class FakeUserLookup implements UserLookup {
  readonly asked: string[] = [];
  failure: Error | undefined;
  private readonly unverified = new Set<string>();

  constructor(private readonly users: Record<string, string> = {}) {}

  /** Registers (or, with undefined, deletes) a user; `emailVerified` false: not proven yet. */
  set(email: string, userId: string | undefined, emailVerified = true): void {
    if (userId === undefined) delete this.users[email];
    else this.users[email] = userId;
    if (emailVerified) this.unverified.delete(email);
    else this.unverified.add(email);
  }

  async findUserByEmail(email: string): Promise<UserByEmail | undefined> {
    this.asked.push(`email:${email}`);
    if (this.failure) throw this.failure;
    const id = this.users[email];
    return id === undefined ? undefined : { id, emailVerified: !this.unverified.has(email) };
  }

  async emailOf(userId: string): Promise<string | undefined> {
    this.asked.push(`user:${userId}`);
    if (this.failure) throw this.failure;
    return Object.entries(this.users).find(([, id]) => id === userId)?.[0];
  }
}
