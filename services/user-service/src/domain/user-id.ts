import { invalidArgument } from '@warden/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUserId = (value: string): boolean => UUID.test(value);

/** A user id from a request, in the canonical lower-case form the database returns. */
export function parseUserId(raw: string, field = 'user_id'): string {
  if (raw.length === 0) throw invalidArgument([{ field, description: 'is required' }]);
  if (!isUserId(raw)) throw invalidArgument([{ field, description: 'must be a UUID' }]);
  return raw.toLowerCase();
}
