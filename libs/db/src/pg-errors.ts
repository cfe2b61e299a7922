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

/** Node's codes for a peer that cannot be reached or went away. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** Prisma: can't reach, timed out reaching, server closed the connection, pool timeout. */
const PRISMA_UNAVAILABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** @prisma/adapter-pg's kinds for the same. */
const ADAPTER_UNAVAILABLE = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
/** admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections (class 08 too). */
const SQLSTATE_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);
/** pg and pg-pool say so in words only. */
const CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Connection ended unexpectedly)/;

/**
 * True when `error` (or one of its causes) says Postgres cannot be reached, went away or refuses
 * connections for now: a reason to answer UNAVAILABLE (retry), never INTERNAL. False for errors of
 * the statement itself (constraint, syntax, serialization).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 8) return false;
  const { name, code, message, meta, cause } = error as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
    cause?: unknown;
  };
  if (typeof code === 'string') {
    if (UNREACHABLE.has(code)) return true;
    if (name === 'PrismaClientKnownRequestError' && PRISMA_UNAVAILABLE.has(code)) return true;
  }
  if (name === 'PrismaClientInitializationError') return true;
  const sqlstate = pgErrorCode(error);
  if (sqlstate && (sqlstate.startsWith('08') || SQLSTATE_UNAVAILABLE.has(sqlstate))) return true;
  const adapter = meta?.driverAdapterError?.cause;
  if (typeof adapter?.kind === 'string' && ADAPTER_UNAVAILABLE.has(adapter.kind)) return true;
  if (typeof message === 'string' && CONNECTION_LOST.test(message)) return true;
  if (
    error instanceof AggregateError &&
    error.errors.some((e) => isDatabaseUnavailable(e, depth + 1))
  )
    return true;
  return isDatabaseUnavailable(cause, depth + 1);
}
