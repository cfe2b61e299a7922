import { invalidArgument, type AppError } from '@warden/errors';
import { isUserId } from '../../domain/user-id.js';
import type { UserCursor, UserListFilter } from '../ports.js';

/**
 * Opaque to callers: base64url of the last (create_time, id) of a page plus the filters it was
 * issued for, so a token reused with other filters is refused instead of skipping rows.
 */
type TokenBody = [createTimeMs: number, id: string, emailPrefix: string, status: string];

const MAX_TOKEN_LENGTH = 1024;
/** 9999-12-31T23:59:59.999Z: a later (or negative) time is no row's and Postgres or Date would refuse it. */
const MAX_TIME_MS = 253_402_300_799_999;

export function encodePageToken(cursor: UserCursor, filter: UserListFilter): string {
  const body: TokenBody = [
    cursor.createTime.getTime(),
    cursor.id,
    filter.emailPrefix,
    filter.status ?? '',
  ];
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodePageToken(token: string, filter: UserListFilter): UserCursor {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+={0,2}$/.test(token))
    throw invalidPageToken('is not a token this service issued');
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidPageToken('is not a token this service issued');
  }
  if (!isTokenBody(body)) throw invalidPageToken('is not a token this service issued');
  const [createTimeMs, id, emailPrefix, status] = body;
  if (emailPrefix !== filter.emailPrefix || status !== (filter.status ?? '')) {
    throw invalidPageToken('was issued for other filters');
  }
  return { createTime: new Date(createTimeMs), id: id.toLowerCase() };
}

const isTokenBody = (value: unknown): value is TokenBody =>
  Array.isArray(value) &&
  value.length === 4 &&
  Number.isSafeInteger(value[0]) &&
  (value[0] as number) >= 0 &&
  (value[0] as number) <= MAX_TIME_MS &&
  typeof value[1] === 'string' &&
  isUserId(value[1]) &&
  typeof value[2] === 'string' &&
  value[2].length <= MAX_TOKEN_LENGTH &&
  typeof value[3] === 'string' &&
  value[3].length <= MAX_TOKEN_LENGTH;

const invalidPageToken = (description: string): AppError =>
  invalidArgument([{ field: 'page_token', description }], 'INVALID_PAGE_TOKEN');
