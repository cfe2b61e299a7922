import { AppError } from '@warden/errors';
import { expect } from 'vitest';

/** Awaits a rejection and checks it is an AppError of this kind and reason; returns it for more checks. */
export async function expectAppError(
  promise: Promise<unknown>,
  kind: AppError['kind'],
  reason?: string,
): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the call to fail').toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect({ kind: appError.kind, reason: appError.reason }).toEqual({
    kind,
    reason: reason ?? appError.reason,
  });
  return appError;
}
