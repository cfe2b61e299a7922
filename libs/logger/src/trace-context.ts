import { isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import { parseTraceParent, TraceState } from '@opentelemetry/core';
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base';

/** W3C trace context as it travels: gRPC metadata, NATS headers, outbox rows. */
export interface TraceContext {
  /** `00-<trace id>-<span id>-<flags>` */
  traceparent: string;
  tracestate?: string;
}

const ids = new RandomIdGenerator();

/** The caller's span context, or undefined when its traceparent is missing or not valid W3C. */
export function remoteSpanContext(
  context: Partial<TraceContext> | undefined,
): SpanContext | undefined {
  const parsed = context?.traceparent ? parseTraceParent(context.traceparent) : null;
  if (!parsed || !isSpanContextValid(parsed)) return undefined;
  return {
    ...parsed,
    isRemote: true,
    ...(context?.tracestate ? { traceState: new TraceState(context.tracestate) } : {}),
  };
}

/**
 * A new span id in the caller's trace, keeping its sampled flag and tracestate (a new sampled
 * trace when there is no valid caller context). This is the whole cost of a call while tracing is
 * off: the trace id still reaches the logs and the next hop.
 */
export function continueTrace(traceparent?: string, tracestate?: string): TraceContext {
  const parent = remoteSpanContext({ traceparent, tracestate });
  if (!parent) return { traceparent: `00-${ids.generateTraceId()}-${ids.generateSpanId()}-01` };
  const flags = parent.traceFlags & 1 ? '01' : '00';
  const state = parent.traceState?.serialize() ?? '';
  return {
    traceparent: `00-${parent.traceId}-${ids.generateSpanId()}-${flags}`,
    ...(state ? { tracestate: state } : {}),
  };
}

export const traceIdOf = (traceparent: string): string => traceparent.slice(3, 35);
