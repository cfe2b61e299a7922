import { describe, expect, it } from 'vitest';
import { continueTrace, traceIdOf } from './trace-context.js';

describe('trace context', () => {
  it('keeps the caller trace id and starts a new span id', () => {
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const outgoing = continueTrace(incoming).traceparent;
    expect(traceIdOf(outgoing)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(outgoing).not.toContain('b7ad6b7169203331');
    expect(outgoing).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("keeps the caller's sampled flag and tracestate", () => {
    const unsampled = continueTrace(
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
      'warden=t,other=1',
    );
    expect(unsampled.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
    expect(unsampled.tracestate).toBe('warden=t,other=1');
  });

  it('refuses what W3C calls invalid: zero ids, version ff, extra fields after version 00', () => {
    for (const invalid of [
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
    ])
      expect(traceIdOf(continueTrace(invalid).traceparent)).not.toBe(traceIdOf(invalid));
    // A later version is read for its first four fields.
    const future = continueTrace('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra');
    expect(future.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  });

  it('starts a new trace for a missing or malformed header, with ids that do not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const context = continueTrace(i % 2 ? undefined : 'garbage', 'warden=t');
      expect(context.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      // A tracestate without its traceparent belongs to no trace.
      expect(context.tracestate).toBeUndefined();
      seen.add(traceIdOf(context.traceparent));
    }
    expect(seen.size).toBe(1000);
  });
});
