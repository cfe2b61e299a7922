import { invalidArgument, type AppError } from '@warden/errors';

/** What every List request carries. */
export interface PageRequest {
  /** 0 for the default. */
  pageSize: number;
  /** Empty for the first page. */
  pageToken: string;
}

/** What every List answers: the page's rows under their own name, and the next page's token ('' on the last). */
export type Page<K extends string, T> = { [P in K]: T[] } & { nextPageToken: string };

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** page_size: 0 means the default, above the maximum means the maximum, negative is refused. */
export function pageSize(
  requested: number,
  limits: { default?: number; max?: number } = {},
): number {
  if (!Number.isInteger(requested) || requested < 0) {
    throw invalidArgument([{ field: 'page_size', description: 'must not be negative' }]);
  }
  if (requested === 0) return limits.default ?? DEFAULT_PAGE_SIZE;
  return Math.min(requested, limits.max ?? MAX_PAGE_SIZE);
}

/**
 * What a keyset position is made of: `time` a row's timestamp (a Date), `uuid` an id (read back in
 * lower case), `key` any other non-empty key (a name, a subject id).
 */
export type PositionPart = 'time' | 'uuid' | 'key';
type PartValue<P extends PositionPart> = P extends 'time' ? Date : string;
export type PagePosition<P extends readonly PositionPart[]> = {
  -readonly [K in keyof P]: PartValue<P[K]>;
};

/**
 * An opaque page token: the last row's key plus the scope it was issued for (the caller's filters,
 * the listed user), so a token replayed in another scope is refused instead of skipping rows.
 * It carries no secret: tampering can only move the window within what the caller may list anyway.
 */
export function encodePageToken(scope: string, position: readonly (string | Date)[]): string {
  const p = position.map((part) => (part instanceof Date ? part.getTime() : part));
  return Buffer.from(JSON.stringify({ f: scope, p })).toString('base64url');
}

export interface PageListing<T, P extends readonly PositionPart[]> {
  /** What a token is bound to (the caller's filters, the listed user): another scope's is refused. */
  scope: string;
  /** The parts of a row's key, the position a token resumes after. */
  key: P;
  keyOf(row: T): readonly (string | Date)[];
  /** `count` rows in key order after `after` (from the start when undefined). */
  read(after: PagePosition<P> | undefined, count: number): Promise<readonly T[]>;
}

/**
 * One page of a keyset listing: checks page_size and page_token, reads one row more than the page
 * (it tells whether another page follows without a count query), and returns the next token ('' on
 * the last page).
 */
export async function readPage<T, const P extends readonly PositionPart[]>(
  request: PageRequest,
  listing: PageListing<T, P>,
): Promise<{ items: T[]; nextPageToken: string }> {
  const limit = pageSize(request.pageSize);
  const after = decodePageToken(request.pageToken, listing.scope, listing.key);
  const rows = await listing.read(after, limit + 1);
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const more = rows.length > limit && last !== undefined;
  return {
    items,
    nextPageToken: more ? encodePageToken(listing.scope, listing.keyOf(last)) : '',
  };
}

/** Longer than any token we issue; a longer one is refused before it is decoded. */
const MAX_TOKEN_LENGTH = 2048;
const MAX_KEY_LENGTH = 256;
/** 9999-12-31T23:59:59.999Z: a later (or negative) time is no row's, and Postgres or Date would refuse it. */
const MAX_TIME_MS = 253_402_300_799_999;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Control characters (NUL makes Postgres throw) and unpaired surrogates never come from our keys. */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const VALID: Record<PositionPart, (value: unknown) => boolean> = {
  time: (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_TIME_MS,
  uuid: (v) => typeof v === 'string' && UUID.test(v),
  key: (v) =>
    typeof v === 'string' && v.length > 0 && v.length <= MAX_KEY_LENGTH && !UNSAFE.test(v),
};

const READ: Record<PositionPart, (value: unknown) => Date | string> = {
  time: (v) => new Date(v as number),
  uuid: (v) => (v as string).toLowerCase(),
  key: (v) => v as string,
};

/** The position in `token`, undefined for the first page (''); INVALID_PAGE_TOKEN for anything we did not issue for `scope`. */
export function decodePageToken<const P extends readonly PositionPart[]>(
  token: string,
  scope: string,
  parts: P,
): PagePosition<P> | undefined {
  if (token === '') return undefined;
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+={0,2}$/.test(token))
    throw invalidPageToken();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidPageToken();
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalidPageToken();
  const { f, p } = parsed as { f?: unknown; p?: unknown };
  if (
    f !== scope ||
    !Array.isArray(p) ||
    p.length !== parts.length ||
    !parts.every((part, i) => VALID[part](p[i]))
  )
    throw invalidPageToken();
  return parts.map((part, i) => READ[part](p[i])) as PagePosition<P>;
}

const invalidPageToken = (): AppError =>
  invalidArgument(
    [{ field: 'page_token', description: 'is not a page token of this listing' }],
    'INVALID_PAGE_TOKEN',
  );
