/** Failed credential checks for one normalized email, known or not. */
export interface LoginFailures {
  readonly email: string;
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

/** Milliseconds left of a lock, 0 when not locked. */
export function lockRemainingMs(failures: LoginFailures | undefined, now: Date): number {
  const until = failures?.lockedUntilTime?.getTime();
  return until === undefined ? 0 : Math.max(0, until - now.getTime());
}

/** One more failure: counted in the current window, or opening a new one when it has passed. */
export function recordFailure(
  current: LoginFailures | undefined,
  email: string,
  now: Date,
  policy: LockoutPolicy,
): LoginFailures {
  const windowOpen =
    current !== undefined && now.getTime() < current.windowStartTime.getTime() + policy.windowMs;
  const windowStartTime = windowOpen ? current.windowStartTime : now;
  const failureCount = windowOpen ? current.failureCount + 1 : 1;
  const locked = failureCount >= policy.maxFailures;
  return {
    email,
    failureCount,
    windowStartTime,
    ...(locked ? { lockedUntilTime: new Date(windowStartTime.getTime() + policy.windowMs) } : {}),
  };
}
