import { describe, expect, it } from 'vitest';
import { lockRemainingMs, recordFailure, type LockoutPolicy } from './login-failures.js';

const policy: LockoutPolicy = { maxFailures: 3, windowMs: 60_000 };
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

describe('login failures', () => {
  it('opens a window at the first failure and counts within it', () => {
    const first = recordFailure(undefined, 'a@x.io', at(0), policy);
    const second = recordFailure(first, 'a@x.io', at(10), policy);
    expect(second).toEqual({ email: 'a@x.io', failureCount: 2, windowStartTime: at(0) });
    expect(lockRemainingMs(second, at(10))).toBe(0);
  });

  it('locks at the limit until the window ends, even for later failures', () => {
    let failures = recordFailure(undefined, 'a@x.io', at(0), policy);
    failures = recordFailure(failures, 'a@x.io', at(5), policy);
    failures = recordFailure(failures, 'a@x.io', at(20), policy);
    expect(failures.lockedUntilTime).toEqual(at(60));
    expect(lockRemainingMs(failures, at(20))).toBe(40_000);
    expect(lockRemainingMs(failures, at(60))).toBe(0);
  });

  it('starts a new window once the old one has passed', () => {
    let failures = recordFailure(undefined, 'a@x.io', at(0), policy);
    failures = recordFailure(failures, 'a@x.io', at(1), policy);
    failures = recordFailure(failures, 'a@x.io', at(61), policy);
    expect(failures).toEqual({ email: 'a@x.io', failureCount: 1, windowStartTime: at(61) });
  });

  it('is not locked without a record', () => {
    expect(lockRemainingMs(undefined, at(0))).toBe(0);
  });
});
