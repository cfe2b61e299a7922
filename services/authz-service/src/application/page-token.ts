import { invalidArgument } from '@warden/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** page_size: 0 means the default, above the maximum means the maximum, negative is refused. */
export function pageSize(requested: number): number {
  if (!Number.isInteger(requested) || requested < 0) {
    throw invalidArgument([{ field: 'page_size', description: 'must not be negative' }]);
  }
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

/**
 * Opaque keyset tokens: the last row's key plus the filters it was issued for, so a token
 * replayed with other filters is refused rather than silently skipping rows.
 */
export function encodePageToken(filters: string, position: readonly string[]): string {
  return Buffer.from(JSON.stringify({ f: filters, p: position })).toString('base64url');
}

/** Longer than any token this service issues; a longer one is refused before it is decoded. */
const MAX_TOKEN_LENGTH = 2048;
const MAX_POSITION_LENGTH = 256;
/** Control characters (NUL makes Postgres throw) and unpaired surrogates never come from our keys. */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const isPosition = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length > 0 &&
  value.length <= MAX_POSITION_LENGTH &&
  !UNSAFE.test(value);

export function decodePageToken(
  token: string,
  filters: string,
  arity: number,
): string[] | undefined {
  if (token === '') return undefined;
  const bad = () =>
    invalidArgument(
      [{ field: 'page_token', description: 'not a token from this listing' }],
      'INVALID_PAGE_TOKEN',
    );
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+={0,2}$/.test(token)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof parsed !== 'object' || parsed === null) throw bad();
  const { f, p } = parsed as { f?: unknown; p?: unknown };
  if (f !== filters || !Array.isArray(p) || p.length !== arity || !p.every(isPosition)) throw bad();
  return p as string[];
}
