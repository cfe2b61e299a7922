import { invalidArgument } from '@warden/errors';
import { isUuid } from '../../domain/session-id.js';
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

/** Longer than any token this service issues; a longer one is refused before it is decoded. */
const MAX_TOKEN_LENGTH = 512;
/** 9999-12-31T23:59:59.999Z: a later (or negative) time is no row's and Postgres or Date would refuse it. */
const MAX_TIME_MS = 253_402_300_799_999;

export function decodePageToken(token: string, userId: string): ListCursor | undefined {
  if (token === '') return undefined;
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+={0,2}$/.test(token))
    throw invalidPageToken();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidPageToken();
  }
  const { u, t, i } = (parsed ?? {}) as { u?: unknown; t?: unknown; i?: unknown };
  if (
    u !== userId ||
    !Number.isSafeInteger(t) ||
    (t as number) < 0 ||
    (t as number) > MAX_TIME_MS ||
    typeof i !== 'string' ||
    !isUuid(i)
  )
    throw invalidPageToken();
  return { createTime: new Date(t as number), id: i.toLowerCase() };
}

const invalidPageToken = () =>
  invalidArgument(
    [{ field: 'page_token', description: 'is not a page token of this listing' }],
    'INVALID_PAGE_TOKEN',
  );
