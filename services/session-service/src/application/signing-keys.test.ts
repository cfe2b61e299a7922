import { describe, expect, it } from 'vitest';
import {
  activationTime,
  needsRotation,
  publishedKeys,
  signingKey,
  type SigningKeyPolicy,
  type SigningKeyRecord,
} from './signing-keys.js';

const MIN = 60_000;
const policy: SigningKeyPolicy = { ttlMs: 5 * MIN, rotationMs: 60 * MIN, refreshMs: MIN };
const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1) + minutes * MIN);
const key = (kid: string, created: number, retired: number | null = null): SigningKeyRecord => ({
  kid,
  createTime: at(created),
  retireTime: retired === null ? null : at(retired),
});

describe('signing key policy', () => {
  it('rotates when there is no key, and the first key signs at once', () => {
    expect(needsRotation([], at(0), policy)).toBe(true);
    expect(activationTime([], at(0), policy)).toEqual(at(0));
  });

  it('makes the next key one refresh before the signing key is rotation old, to sign one refresh later', () => {
    const keys = [key('a', 0)];
    expect(needsRotation(keys, at(58), policy)).toBe(false);
    expect(needsRotation(keys, at(59), policy)).toBe(true);
    expect(activationTime(keys, at(59), policy)).toEqual(at(60));
  });

  it('publishes the next key before it signs, and never rotates again while it waits', () => {
    const keys = [key('a', 0, 60), key('b', 60)];
    expect(signingKey(keys, at(59.5))?.kid).toBe('a');
    expect(publishedKeys(keys, at(59.5), policy).map((k) => k.kid)).toEqual(['a', 'b']);
    expect(needsRotation(keys, at(59.5), policy)).toBe(false);
    expect(signingKey(keys, at(60))?.kid).toBe('b');
  });

  it('keeps a retired key published until its last token lapses, then drops it', () => {
    const keys = [key('a', 0, 60), key('b', 60)];
    // A replica may sign with `a` until 61 (one refresh late); that token lives until 66.
    expect(publishedKeys(keys, at(65.9), policy).map((k) => k.kid)).toEqual(['b', 'a']);
    expect(publishedKeys(keys, at(66), policy).map((k) => k.kid)).toEqual(['b']);
  });
});
