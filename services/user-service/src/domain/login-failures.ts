/** Failed credential checks for one normalized email, known or not. */
export interface LoginFailures {
  readonly email: string;
  /** Attempts counted in the window, each counted before its password was checked. */
  readonly failureCount: number;
  readonly windowStartTime: Date;
  /** Set when the count reached the limit: the email stays locked until the window ends. */
  readonly lockedUntilTime?: Date;
}

export interface LockoutPolicy {
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, windowMs: 15 * 60_000 };

/** Whether an attempt may check its password: it took one of the window's slots, or the email is locked. */
export type FailureSlot =
  | { readonly taken: true; readonly failures: LoginFailures }
  | { readonly taken: false; readonly lockedUntilTime: Date };

/** Milliseconds left of a lock, 0 when not locked. */
export function lockRemainingMs(failures: LoginFailures | undefined, now: Date): number {
  const until = failures?.lockedUntilTime?.getTime();
  return until === undefined ? 0 : Math.max(0, until - now.getTime());
}

/**
 * Counts an attempt as a failure BEFORE its password is checked (a success clears it later), so
 * concurrent guesses cannot all pass a count read before any of them failed. Refuses once the
 * window holds `maxFailures`; a window that has passed starts again at `now`.
 */
export function takeFailureSlot(
  current: LoginFailures | undefined,
  email: string,
  now: Date,
  policy: LockoutPolicy,
): FailureSlot {
  const windowOpen =
    current !== undefined && now.getTime() < current.windowStartTime.getTime() + policy.windowMs;
  const windowStartTime = windowOpen ? current.windowStartTime : now;
  const lockedUntilTime = new Date(windowStartTime.getTime() + policy.windowMs);
  if (windowOpen && current.failureCount >= policy.maxFailures) {
    return { taken: false, lockedUntilTime };
  }
  const failureCount = windowOpen ? current.failureCount + 1 : 1;
  return {
    taken: true,
    failures: {
      email,
      failureCount,
      windowStartTime,
      ...(failureCount >= policy.maxFailures ? { lockedUntilTime } : {}),
    },
  };
}
