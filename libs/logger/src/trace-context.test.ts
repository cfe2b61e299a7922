import { describe, expect, it } from 'vitest';
import { ensureTraceparent, traceIdOf } from './trace-context.js';

describe('trace context', () => {
  it('keeps the caller trace id and starts a new span id', () => {
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const outgoing = ensureTraceparent(incoming);
    expect(traceIdOf(outgoing)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(outgoing).not.toContain('b7ad6b7169203331');
    expect(outgoing).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('starts a new trace for a missing or malformed header, with ids that do not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const traceparent = ensureTraceparent(i % 2 ? undefined : 'garbage');
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      seen.add(traceIdOf(traceparent));
    }
    expect(seen.size).toBe(1000);
  });
});
