import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from './page-token.js';

describe('page tokens', () => {
  const cursor = {
    createTime: new Date('2026-01-01T00:00:00.123Z'),
    id: '0190a0b0-0000-7000-8000-000000000001',
  };

  it('round-trip the cursor for the same user', () => {
    expect(decodePageToken(encodePageToken('u1', cursor), 'u1')).toEqual(cursor);
    expect(decodePageToken('', 'u1')).toBeUndefined();
  });

  it('refuse another user, garbage and wrong shapes', () => {
    const token = encodePageToken('u1', cursor);
    for (const bad of [
      token.slice(0, -3),
      'not base64 !',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('{"u":"u1","t":"x","i":"y"}').toString('base64url'),
    ]) {
      expect(() => decodePageToken(bad, 'u1')).toThrow(
        expect.objectContaining({ reason: 'INVALID_PAGE_TOKEN' }),
      );
    }
    expect(() => decodePageToken(token, 'u2')).toThrow(
      expect.objectContaining({ kind: 'INVALID_ARGUMENT', reason: 'INVALID_PAGE_TOKEN' }),
    );
  });
});
