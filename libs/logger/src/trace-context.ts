import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type { SpanContext } from '@opentelemetry/api';
import type { TraceState } from '@opentelemetry/core';

/**
 * @opentelemetry/core's W3C tracestate parser, loaded by the first call that carries a tracestate:
 * a process whose callers send none (and that does not trace) never loads OpenTelemetry.
 */
let TraceStateClass: typeof TraceState | undefined;
function parseTraceState(header: string): TraceState {
  TraceStateClass ??= (
    createRequire(import.meta.url)('@opentelemetry/core') as typeof import('@opentelemetry/core')
  ).TraceState;
  return new TraceStateClass(header);
}

/** W3C trace context as it travels: gRPC metadata, NATS headers, outbox rows. */
export interface TraceContext {
  /** `00-<trace id>-<span id>-<flags>` */
  traceparent: string;
  tracestate?: string;
}

/**
 * Trace and span ids from a pool of crypto randomness, refilled 4 KiB at a time: a call while
 * tracing is off pays a hex slice, and the OpenTelemetry SDK is not loaded for it (see startTracing).
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHex(bytes: number, zero: string): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const hex = pool.toString('hex', poolOffset, (poolOffset += bytes));
    // An all-zero id is invalid in W3C trace context.
    if (hex !== zero) return hex;
  }
}

const ids = {
  generateTraceId: () => randomHex(16, ZERO_TRACE),
  generateSpanId: () => randomHex(8, ZERO_SPAN),
};

/** W3C traceparent: version (ff is invalid; 00 has nothing after the flags), trace id, span id, flags. */
const TRACEPARENT = /^([0-9a-e][0-9a-f])-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The caller's span context, or undefined when its traceparent is missing or not valid W3C. */
export function remoteSpanContext(
  context: Partial<TraceContext> | undefined,
): SpanContext | undefined {
  const match = context?.traceparent ? TRACEPARENT.exec(context.traceparent) : null;
  if (
    !match ||
    (match[1] === '00' && match[5]) ||
    match[2] === ZERO_TRACE ||
    match[3] === ZERO_SPAN
  )
    return undefined;
  return {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: parseInt(match[4]!, 16),
    isRemote: true,
    ...(context?.tracestate ? { traceState: parseTraceState(context.tracestate) } : {}),
  };
}

/**
 * A new span id in the caller's trace, keeping its sampled flag and tracestate (a new sampled
 * trace when there is no valid caller context). This is the whole cost of a call while tracing is
 * off: the trace id still reaches the logs and the next hop.
 */
export function continueTrace(traceparent?: string, tracestate?: string): TraceContext {
  const match = traceparent ? validTraceparent(traceparent) : null;
  if (!match) return { traceparent: `00-${ids.generateTraceId()}-${ids.generateSpanId()}-01` };
  const next = `00-${match[2]}-${ids.generateSpanId()}-${parseInt(match[4]!, 16) & 1 ? '01' : '00'}`;
  const state = tracestate ? parseTraceState(tracestate).serialize() : '';
  return state ? { traceparent: next, tracestate: state } : { traceparent: next };
}

function validTraceparent(traceparent: string): RegExpExecArray | null {
  const match = TRACEPARENT.exec(traceparent);
  if (
    !match ||
    (match[1] === '00' && match[5]) ||
    match[2] === ZERO_TRACE ||
    match[3] === ZERO_SPAN
  )
    return null;
  return match;
}

export const traceIdOf = (traceparent: string): string => traceparent.slice(3, 35);
