import { AppError } from '@warden/errors';
import { callUnary } from '@warden/grpc';
import type { userv1 } from '@warden/proto';
import { expect } from 'vitest';

type Unary<Req, Res> = Parameters<typeof callUnary<Req, Res>>[0];

/** One UserService RPC from `client`, on behalf of the user behind `token` when given. */
export function callAs<Req, Res>(
  client: userv1.UserServiceClient,
  method: (c: userv1.UserServiceClient) => Unary<Req, Res>,
  request: Req,
  token?: string,
): Promise<Res> {
  return callUnary(
    method(client),
    client,
    request,
    token ? { bearerToken: token, requestId: 'component-test' } : undefined,
  );
}

/** The AppError a call failed with (the test fails if it succeeded). */
export async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}
