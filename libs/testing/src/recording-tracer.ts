import {
  continueTrace,
  setTracer,
  type Attrs,
  type SpanKind,
  type TraceContext,
  type Tracer,
} from '@warden/logger';

/** A span as the recording tracer saw it: started and ended. */
export interface RecordedSpan {
  name: string;
  kind: SpanKind;
  parent?: TraceContext;
  context: TraceContext;
  attributes: Attrs;
  startMs: number;
  endMs: number;
  error?: string;
}

/**
 * A tracer that keeps every ended span in memory, made the process tracer until `restore()`: a
 * fake for tests that check where the kit starts and ends its spans.
 */
export function recordingTracer(): { spans: RecordedSpan[]; restore(): void } {
  const spans: RecordedSpan[] = [];
  const fake: Tracer = {
    enabled: true,
    start(name, kind, parent, o) {
      const context = continueTrace(parent?.traceparent, parent?.tracestate);
      const startMs = o?.startMs ?? Date.now();
      return {
        context,
        end(e) {
          spans.push({
            name,
            kind,
            ...(parent ? { parent } : {}),
            context,
            attributes: { ...o?.attributes, ...e?.attributes },
            startMs,
            endMs: e?.endMs ?? Date.now(),
            ...(e?.error === undefined ? {} : { error: e.error }),
          });
        },
      };
    },
    flush: async () => undefined,
    shutdown: async () => undefined,
  };
  const previous = setTracer(fake);
  return { spans, restore: () => void setTracer(previous) };
}
