import { invalidArgument } from '@warden/errors';
import type { ListCursor } from '../ports.js';

/**
 * Opaque keyset page tokens, bound to the user they were issued for. They carry no secret, so
 * tampering can only move the window within what the caller may list anyway.
 */
export function encodePageToken(userId: string, cursor: ListCursor): string {
  return Buffer.from(
    JSON.stringify({ u: userId, t: cursor.createTime.getTime(), i: cursor.id }),
  ).toString('base64url');
}

export function decodePageToken(token: string, userId: string): ListCursor | undefined {
  if (token === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidPageToken();
  }
  const { u, t, i } = (parsed ?? {}) as { u?: unknown; t?: unknown; i?: unknown };
  if (
    u !== userId ||
    typeof t !== 'number' ||
    !Number.isFinite(t) ||
    typeof i !== 'string' ||
    i.length > 64
  )
    throw invalidPageToken();
  return { createTime: new Date(t), id: i };
}

const invalidPageToken = () =>
  invalidArgument(
    [{ field: 'page_token', description: 'is not a page token of this listing' }],
    'INVALID_PAGE_TOKEN',
  );
