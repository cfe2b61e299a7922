import type { LoginFailureStore } from '../../application/ports.js';
import type { LoginFailures } from '../../domain/login-failures.js';

export class MemoryLoginFailureStore implements LoginFailureStore {
  readonly records = new Map<string, LoginFailures>();

  async get(email: string): Promise<LoginFailures | undefined> {
    return this.records.get(email);
  }

  async update(
    email: string,
    next: (current: LoginFailures | undefined) => LoginFailures,
  ): Promise<LoginFailures> {
    const updated = next(this.records.get(email));
    this.records.set(email, updated);
    return updated;
  }

  async clear(email: string): Promise<void> {
    this.records.delete(email);
  }
}
