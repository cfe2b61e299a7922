import { invalidArgument, type AppError } from '@warden/errors';
import { isUserId } from '../../domain/user-id.js';
import type { UserCursor, UserListFilter } from '../ports.js';

/**
 * Opaque to callers: base64url of the last (create_time, id) of a page plus the filters it was
 * issued for, so a token reused with other filters is refused instead of skipping rows.
 */
type TokenBody = [createTimeMs: number, id: string, emailPrefix: string, status: string];

const MAX_TOKEN_LENGTH = 1024;

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
  if (token.length > MAX_TOKEN_LENGTH) throw invalidPageToken('is not a token this service issued');
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
  return { createTime: new Date(createTimeMs), id };
}

const isTokenBody = (value: unknown): value is TokenBody =>
  Array.isArray(value) &&
  value.length === 4 &&
  Number.isSafeInteger(value[0]) &&
  typeof value[1] === 'string' &&
  isUserId(value[1]) &&
  typeof value[2] === 'string' &&
  typeof value[3] === 'string';

const invalidPageToken = (description: string): AppError =>
  invalidArgument([{ field: 'page_token', description }], 'INVALID_PAGE_TOKEN');
