import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isForeignKeyViolation, isUniqueViolation, pgErrorCode } from './pg-errors.js';

const pgError = (code: string) =>
  Object.assign(new pg.DatabaseError('failed', 0, 'error'), { code });
/** The shape of Prisma's `PrismaClientKnownRequestError` (libs/db does not depend on Prisma). */
class PrismaClientKnownRequestError extends Error {
  override readonly name = 'PrismaClientKnownRequestError';
  constructor(
    readonly code: string,
    readonly meta?: Record<string, unknown>,
  ) {
    super(code);
  }
}

describe('pgErrorCode', () => {
  it("reads a pg DatabaseError's SQLSTATE", () => {
    expect(pgErrorCode(pgError('23505'))).toBe('23505');
    expect(isUniqueViolation(pgError('23505'))).toBe(true);
    expect(isForeignKeyViolation(pgError('23503'))).toBe(true);
    expect(isUniqueViolation(pgError('23503'))).toBe(false);
    expect(pgErrorCode(pgError('40P01'))).toBe('40P01');
  });

  it("maps Prisma's P2002 and P2003, and a raw query's P2010 to the database's code", () => {
    expect(pgErrorCode(new PrismaClientKnownRequestError('P2002'))).toBe('23505');
    expect(isUniqueViolation(new PrismaClientKnownRequestError('P2002'))).toBe(true);
    expect(pgErrorCode(new PrismaClientKnownRequestError('P2003'))).toBe('23503');
    expect(isForeignKeyViolation(new PrismaClientKnownRequestError('P2003'))).toBe(true);
    expect(pgErrorCode(new PrismaClientKnownRequestError('P2010', { code: '23505' }))).toBe(
      '23505',
    );
    expect(pgErrorCode(new PrismaClientKnownRequestError('P2025'))).toBeUndefined();
  });

  it('is undefined for anything else', () => {
    for (const notOne of [
      undefined,
      null,
      'P2002',
      23505,
      new Error('23505'),
      Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      { code: 23505 },
    ])
      expect(pgErrorCode(notOne)).toBeUndefined();
  });
});
