/** Prisma's names for the Postgres errors callers tell apart. */
const PRISMA_CODES: Record<string, string> = { P2002: '23505', P2003: '23503' };
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE of a failed statement, from pg (`DatabaseError.code`) or from Prisma
 * (`P2002`, `P2003`, and a raw query's `P2010` carrying the database's code); else undefined.
 */
export function pgErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, code, meta } = error as { name?: unknown; code?: unknown; meta?: unknown };
  if (typeof code !== 'string') return undefined;
  if (name === 'PrismaClientKnownRequestError') {
    if (code === 'P2010')
      return pgErrorCode({ code: (meta as { code?: unknown } | undefined)?.code });
    return PRISMA_CODES[code];
  }
  return SQLSTATE.test(code) ? code : undefined;
}

export const isUniqueViolation = (error: unknown): boolean => pgErrorCode(error) === '23505';
export const isForeignKeyViolation = (error: unknown): boolean => pgErrorCode(error) === '23503';
