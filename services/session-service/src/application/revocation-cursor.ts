import { invalidCursor } from '../errors.js';

/** Where a revocation feed stands in each JetStream stream it reads: the last sequence consumed. */
export interface FeedPosition {
  session: number;
  user: number;
  authz: number;
}

export const FEED_STREAMS = ['session', 'user', 'authz'] as const;
export type FeedStream = (typeof FEED_STREAMS)[number];

const VERSION = 1;
const BYTES = 1 + 8 * FEED_STREAMS.length;

/** An opaque cursor: a version byte and the three sequences (uint64 big-endian), base64url. */
export function encodeCursor(position: FeedPosition): string {
  const bytes = Buffer.alloc(BYTES);
  bytes[0] = VERSION;
  FEED_STREAMS.forEach((stream, i) => bytes.writeBigUInt64BE(BigInt(position[stream]), 1 + 8 * i));
  return bytes.toString('base64url');
}

/** The position a cursor names; INVALID_ARGUMENT INVALID_CURSOR for anything this service did not issue. */
export function decodeCursor(cursor: string): FeedPosition {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length !== BYTES || bytes[0] !== VERSION || bytes.toString('base64url') !== cursor)
    throw invalidCursor();
  const sequences = FEED_STREAMS.map((_, i) => bytes.readBigUInt64BE(1 + 8 * i));
  if (sequences.some((seq) => seq > BigInt(Number.MAX_SAFE_INTEGER))) throw invalidCursor();
  const [session, user, authz] = sequences.map(Number) as [number, number, number];
  return { session, user, authz };
}
