import { invalidArgument } from '@warden/errors';

const MAX_REQUEST_ID_LENGTH = 128;

/** A create mutation's `request_id` as an idempotency key: empty is none, 1..128 characters. */
export function requestKey(requestId: string): string | undefined {
  if (requestId === '') return undefined;
  if (requestId.length > MAX_REQUEST_ID_LENGTH) {
    throw invalidArgument([
      { field: 'request_id', description: `must be at most ${MAX_REQUEST_ID_LENGTH} characters` },
    ]);
  }
  return requestId;
}
