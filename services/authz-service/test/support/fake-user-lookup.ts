import type { UserLookup } from '../../src/application/bootstrap-admins.js';

/** user-service's directory as a table of email -> user id, remembering what it was asked. */
export class FakeUserLookup implements UserLookup {
  readonly asked: string[] = [];
  failure: Error | undefined;

  constructor(private readonly users: Record<string, string> = {}) {}

  /** Registers (or, with undefined, deletes) a user. */
  set(email: string, userId: string | undefined): void {
    if (userId === undefined) delete this.users[email];
    else this.users[email] = userId;
  }

  async findUserIdByEmail(email: string): Promise<string | undefined> {
    this.asked.push(`email:${email}`);
    if (this.failure) throw this.failure;
    return this.users[email];
  }

  async emailOf(userId: string): Promise<string | undefined> {
    this.asked.push(`user:${userId}`);
    if (this.failure) throw this.failure;
    return Object.entries(this.users).find(([, id]) => id === userId)?.[0];
  }
}
