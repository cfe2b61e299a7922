import { describe, expect, it } from 'vitest';
import {
  lockRemainingMs,
  takeFailureSlot,
  type FailureSlot,
  type LockoutPolicy,
  type LoginFailures,
} from './login-failures.js';

const policy: LockoutPolicy = { maxFailures: 3, windowMs: 60_000 };
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

const taken = (slot: FailureSlot): LoginFailures => {
  if (!slot.taken)
    throw new Error(
      `expected a slot, the email is locked until ${slot.lockedUntilTime.toISOString()}`,
    );
  return slot.failures;
};

/** Takes `count` slots for a@x.io at the given seconds, one each. */
const slotsAt = (...seconds: number[]): LoginFailures | undefined =>
  seconds.reduce<LoginFailures | undefined>(
    (current, s) => taken(takeFailureSlot(current, 'a@x.io', at(s), policy)),
    undefined,
  );

describe('login failure slots', () => {
  it('opens a window at the first attempt and counts within it', () => {
    const second = slotsAt(0, 10);
    expect(second).toEqual({ email: 'a@x.io', failureCount: 2, windowStartTime: at(0) });
    expect(lockRemainingMs(second, at(10))).toBe(0);
  });

  it('marks the lock with the last slot of the window, until the window ends', () => {
    const last = slotsAt(0, 5, 20);
    expect(last).toEqual({
      email: 'a@x.io',
      failureCount: 3,
      windowStartTime: at(0),
      lockedUntilTime: at(60),
    });
    expect(lockRemainingMs(last, at(20))).toBe(40_000);
    expect(lockRemainingMs(last, at(60))).toBe(0);
  });

  it('refuses a slot once the window holds maxFailures, telling when the lock ends', () => {
    const full = slotsAt(0, 5, 20);
    expect(takeFailureSlot(full, 'a@x.io', at(59), policy)).toEqual({
      taken: false,
      lockedUntilTime: at(60),
    });
  });

  it('starts a new window once the old one has passed, full or not', () => {
    expect(taken(takeFailureSlot(slotsAt(0, 1), 'a@x.io', at(61), policy))).toEqual({
      email: 'a@x.io',
      failureCount: 1,
      windowStartTime: at(61),
    });
    expect(taken(takeFailureSlot(slotsAt(0, 1, 2), 'a@x.io', at(60), policy))).toEqual({
      email: 'a@x.io',
      failureCount: 1,
      windowStartTime: at(60),
    });
  });

  it('locks with the first slot when one failure is the limit', () => {
    const one = taken(takeFailureSlot(undefined, 'a@x.io', at(0), { ...policy, maxFailures: 1 }));
    expect(one.lockedUntilTime).toEqual(at(60));
  });

  it('is not locked without a record', () => {
    expect(lockRemainingMs(undefined, at(0))).toBe(0);
  });
});
