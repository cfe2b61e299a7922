import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from './page-token.js';

const forge = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
const refused = expect.objectContaining({ kind: 'INVALID_ARGUMENT', reason: 'INVALID_PAGE_TOKEN' });

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
      expect(() => decodePageToken(bad, 'u1')).toThrow(refused);
    }
    expect(() => decodePageToken(token, 'u2')).toThrow(refused);
  });

  it('refuse forged times and ids that Postgres or Date would choke on', () => {
    const forged: unknown[] = [
      { u: 'u1', t: 1e300, i: cursor.id },
      { u: 'u1', t: 9e15, i: cursor.id },
      { u: 'u1', t: 253_402_300_800_000, i: cursor.id },
      { u: 'u1', t: -1, i: cursor.id },
      { u: 'u1', t: 1.5, i: cursor.id },
      { u: 'u1', t: null, i: cursor.id },
      { u: 'u1', t: '1700000000000', i: cursor.id },
      { u: 'u1', t: [1], i: cursor.id },
      { u: 'u1', t: 1, i: 'not-a-uuid' },
      { u: 'u1', t: 1, i: `${cursor.id}\u0000` },
      { u: 'u1', t: 1, i: 7 },
      { u: 'u1', t: 1 },
      { u: 'u1', t: 1, i: 'x'.repeat(10_000) },
      null,
      42,
      'a string',
    ];
    for (const body of forged)
      expect(
        () => decodePageToken(forge(body), 'u1'),
        String(JSON.stringify(body)?.slice(0, 60)),
      ).toThrow(refused);
    // NaN and Infinity are not JSON: they arrive as null or as a parse error.
    expect(() => decodePageToken(forge({ u: 'u1', t: Number.NaN, i: cursor.id }), 'u1')).toThrow(
      refused,
    );
    expect(() =>
      decodePageToken(Buffer.from('{"u":"u1","t":NaN}').toString('base64url'), 'u1'),
    ).toThrow(refused);
  });

  it('refuse huge and non-base64url tokens before decoding them', () => {
    expect(() => decodePageToken('A'.repeat(1_000_000), 'u1')).toThrow(refused);
    expect(() => decodePageToken('eyJ1Ijoi/+==', 'u1')).toThrow(refused);
    expect(() => decodePageToken('%%%', 'u1')).toThrow(refused);
  });

  it('accept the oldest and latest times a row can have', () => {
    for (const t of [0, 253_402_300_799_999])
      expect(decodePageToken(forge({ u: 'u1', t, i: cursor.id.toUpperCase() }), 'u1')).toEqual({
        createTime: new Date(t),
        id: cursor.id,
      });
  });
});
