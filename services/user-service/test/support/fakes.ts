import type {
  BreachedPasswordChecker,
  Clock,
  PasswordHasher,
} from '../../src/application/ports.js';

export const fakeHashOf = (password: string): string => `fake-hash:${password}`;

/** Transparent "hashing"; counts verifications, including the dummy one for unknown users. */
export class FakePasswordHasher implements PasswordHasher {
  verifications = 0;
  dummyVerifications = 0;

  async hash(password: string): Promise<string> {
    return fakeHashOf(password);
  }

  private nextFailure: Error | undefined;

  /** The next verify throws `error` (a hasher that could not run), after counting itself. */
  failNext(error: Error): void {
    this.nextFailure = error;
  }

  async verify(password: string, hash: string | undefined): Promise<boolean> {
    this.verifications++;
    const failure = this.nextFailure;
    this.nextFailure = undefined;
    if (failure) throw failure;
    if (hash === undefined) {
      this.dummyVerifications++;
      return false;
    }
    return hash === fakeHashOf(password);
  }

  /** Only the fake's own hashes are current. */
  needsRehash(hash: string): boolean {
    return !hash.startsWith('fake-hash:');
  }
}

export class FakeBreachedPasswords implements BreachedPasswordChecker {
  readonly asked: string[] = [];

  constructor(private readonly breached: readonly string[] = []) {}

  async isBreached(password: string): Promise<boolean> {
    this.asked.push(password);
    return this.breached.includes(password);
  }
}

export class FixedClock implements Clock {
  constructor(private current = new Date('2026-03-01T10:00:00.000Z')) {}

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
