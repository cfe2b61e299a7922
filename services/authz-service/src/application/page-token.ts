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
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof parsed !== 'object' || parsed === null) throw bad();
  const { f, p } = parsed as { f?: unknown; p?: unknown };
  if (
    f !== filters ||
    !Array.isArray(p) ||
    p.length !== arity ||
    !p.every((v) => typeof v === 'string')
  )
    throw bad();
  return p as string[];
}
