import type { LoginFailureStore } from '../../application/ports.js';
import {
  takeFailureSlot,
  type FailureSlot,
  type LockoutPolicy,
  type LoginFailures,
} from '../../domain/login-failures.js';

export class MemoryLoginFailureStore implements LoginFailureStore {
  readonly records = new Map<string, LoginFailures>();

  async get(email: string): Promise<LoginFailures | undefined> {
    return this.records.get(email);
  }

  // Read and write happen in one synchronous step, so concurrent callers cannot interleave.
  async takeSlot(email: string, now: Date, policy: LockoutPolicy): Promise<FailureSlot> {
    const slot = takeFailureSlot(this.records.get(email), email, now, policy);
    if (slot.taken) this.records.set(email, slot.failures);
    return slot;
  }

  async clear(email: string): Promise<void> {
    this.records.delete(email);
  }
}
