import { isAppError } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './revocation-cursor.js';

const reasonOf = (run: () => unknown) => {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return isAppError(error)
      ? `${error.kind} ${error.reason} ${error.violations[0]?.field}`
      : 'thrown';
  }
};

describe('revocation cursors', () => {
  it('round-trip the three stream sequences as an opaque base64url string', () => {
    const position = { session: 1, user: 2 ** 40, authz: Number.MAX_SAFE_INTEGER };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['too short', encodeCursor({ session: 1, user: 2, authz: 3 }).slice(0, -2)],
    ['another version', Buffer.alloc(25, 0).fill(2, 0, 1).toString('base64url')],
    ['a sequence past 2^53', Buffer.alloc(25, 0xff).fill(1, 0, 1).toString('base64url')],
    ['trailing bits', `${encodeCursor({ session: 1, user: 2, authz: 3 }).slice(0, -1)}B`],
  ])('refuses %s with INVALID_ARGUMENT INVALID_CURSOR on after', (_, cursor) => {
    expect(reasonOf(() => decodeCursor(cursor))).toBe('INVALID_ARGUMENT INVALID_CURSOR after');
  });
});
