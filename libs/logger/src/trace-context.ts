import { randomFillSync } from 'node:crypto';

/** W3C traceparent: version 00, trace id, parent (span) id, flags. */
export const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

// One randomFillSync per 4 KiB instead of one per call: two fresh ids per RPC were a measurable
// share of the hot path (ValidateSession, CheckPermission).
const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** W3C trace context: keep the caller's trace id, start a span id of our own (or a new trace). */
export function ensureTraceparent(incoming: string | undefined): string {
  const match = incoming ? TRACEPARENT.exec(incoming) : null;
  const traceId = match?.[1] ?? randomHex(16);
  return `00-${traceId}-${randomHex(8)}-01`;
}

export const traceIdOf = (traceparent: string): string => traceparent.slice(3, 35);
