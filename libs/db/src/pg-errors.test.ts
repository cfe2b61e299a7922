import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  isDatabaseUnavailable,
  isForeignKeyViolation,
  isUniqueViolation,
  pgErrorCode,
} from './pg-errors.js';

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

describe('isDatabaseUnavailable', () => {
  const prismaP1001 = Object.assign(new Error('Invalid `prisma.user.findFirst()` invocation'), {
    name: 'PrismaClientKnownRequestError',
    code: 'P1001',
    meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
  });

  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a server shutting down (57P01)', Object.assign(new Error('terminating'), { code: '57P01' })],
    ['a server starting up (57P03)', Object.assign(new Error('starting up'), { code: '57P03' })],
    ['a connection exception (08006)', Object.assign(new Error('failure'), { code: '08006' })],
    ['too many connections (53300)', Object.assign(new Error('too many'), { code: '53300' })],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['a pool that cannot connect', new Error('timeout exceeded when trying to connect')],
    ["Prisma's P1001", prismaP1001],
    [
      'a closed adapter connection',
      Object.assign(new Error('x'), {
        name: 'PrismaClientKnownRequestError',
        code: 'P2010',
        meta: { driverAdapterError: { cause: { kind: 'ConnectionClosed' } } },
      }),
    ],
    ['one wrapped as a cause', new Error('saving the user failed', { cause: prismaP1001 })],
    [
      'every address refused',
      new AggregateError([Object.assign(new Error('r'), { code: 'ECONNREFUSED' })]),
    ],
  ])('is true for %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', Object.assign(new Error('duplicate'), { code: '23505' })],
    ['a serialization failure', Object.assign(new Error('serialize'), { code: '40001' })],
    ['a bug', new Error('Cannot read properties of undefined')],
    [
      "Prisma's P2002",
      Object.assign(new Error('x'), { name: 'PrismaClientKnownRequestError', code: 'P2002' }),
    ],
    ['nothing', undefined],
  ])('is false for %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
