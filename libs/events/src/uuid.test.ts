import { describe, expect, it } from 'vitest';
import { isUuid, uuidv7 } from './uuid.js';

function timestampOf(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID carrying the millisecond', () => {
    const now = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const id = uuidv7(now);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
    expect(timestampOf(id)).toBe(now);
  });

  it('sorts in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('stays ordered when a millisecond runs out of counter values', () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(now));
    expect([...ids].sort()).toEqual(ids);
    expect(timestampOf(ids.at(-1)!)).toBeGreaterThan(now);
  });

  it('stays ordered when the clock steps back', () => {
    const later = uuidv7(Date.now() + 120_000);
    const earlier = uuidv7(Date.now());
    expect(earlier > later).toBe(true);
  });
});
