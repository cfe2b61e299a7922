import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken, pageOf, pageSize } from './paging.js';

const forge = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
const refused = expect.objectContaining({ kind: 'INVALID_ARGUMENT', reason: 'INVALID_PAGE_TOKEN' });
const ID = '0190a0b0-0000-7000-8000-000000000001';
const CURSOR = ['time', 'uuid'] as const;

function refusal(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('pageSize', () => {
  it('reads 0 as the default, caps at the maximum and refuses negative or fractional sizes', () => {
    expect(pageSize(0)).toBe(50);
    expect(pageSize(7)).toBe(7);
    expect(pageSize(501)).toBe(500);
    expect(pageSize(0, { default: 10, max: 20 })).toBe(10);
    expect(pageSize(21, { default: 10, max: 20 })).toBe(20);
    for (const bad of [-1, 1.5, Number.NaN])
      expect(refusal(() => pageSize(bad))).toEqual(
        expect.objectContaining({
          kind: 'INVALID_ARGUMENT',
          violations: [{ field: 'page_size', description: 'must not be negative' }],
        }),
      );
  });
});

describe('pageOf', () => {
  const keyOf = (n: number) => [String(n)];

  it('returns the first limit rows and a token positioned at the last of them when more follow', () => {
    const page = pageOf([1, 2, 3], 2, 'numbers', keyOf);
    expect(page.items).toEqual([1, 2]);
    expect(decodePageToken(page.nextPageToken, 'numbers', ['key'])).toEqual(['2']);
  });

  it('ends with an empty token when nothing follows', () => {
    expect(pageOf([1, 2], 2, 'numbers', keyOf)).toEqual({ items: [1, 2], nextPageToken: '' });
    expect(pageOf([], 2, 'numbers', keyOf)).toEqual({ items: [], nextPageToken: '' });
  });
});

describe('page tokens', () => {
  it('round-trip the position in the same scope, and read the first page from an empty token', () => {
    const cursor = [new Date('2026-01-01T00:00:00.123Z'), ID] as const;
    expect(decodePageToken(encodePageToken('u1', cursor), 'u1', CURSOR)).toEqual(cursor);
    const keys = encodePageToken('assignments::', ['user-1', 'admin']);
    expect(decodePageToken(keys, 'assignments::', ['key', 'key'])).toEqual(['user-1', 'admin']);
    expect(decodePageToken('', 'u1', CURSOR)).toBeUndefined();
  });

  it('refuse another scope (user, filters, listing) and another shape', () => {
    const token = encodePageToken('u1', [new Date(1), ID]);
    expect(() => decodePageToken(token, 'u2', CURSOR)).toThrow(refused);
    const filtered = encodePageToken('["ann",""]', [new Date(1), ID]);
    expect(() => decodePageToken(filtered, '["bob",""]', CURSOR)).toThrow(refused);
    expect(() => decodePageToken(filtered, '["ann","ACTIVE"]', CURSOR)).toThrow(refused);
    const keys = encodePageToken('assignments::', ['user-1', 'admin']);
    expect(() => decodePageToken(keys, 'assignments:user-1:', ['key', 'key'])).toThrow(refused);
    expect(() => decodePageToken(keys, 'assignments::', ['key'])).toThrow(refused);
    expect(() => decodePageToken(keys, 'assignments::', CURSOR)).toThrow(refused);
  });

  it('refuse forged times and ids that Postgres or Date would choke on, with a page_token violation', () => {
    const forged: unknown[] = [
      [1e300, ID],
      [9e15, ID],
      [253_402_300_800_000, ID],
      [-1, ID],
      [-8.64e15, ID],
      [1.5, ID],
      [null, ID],
      ['1700000000000', ID],
      [[1], ID],
      [1, 'not-a-uuid'],
      [1, `${ID}\u0000`],
      [1, 7],
      [1, 'x'.repeat(10_000)],
      [1],
      [1, ID, 'extra'],
      { t: 1, i: ID },
      null,
      42,
      'a string',
    ];
    for (const p of forged) {
      const error = refusal(() => decodePageToken(forge({ f: 'u1', p }), 'u1', CURSOR));
      expect(error, String(JSON.stringify(p)?.slice(0, 60))).toEqual(refused);
      expect((error as { violations: unknown }).violations).toEqual([
        expect.objectContaining({ field: 'page_token' }),
      ]);
    }
    for (const body of [null, 9e15, 'x', [], { f: 'u1' }, [1, ID], { u: 'u1', t: 1, i: ID }])
      expect(() => decodePageToken(forge(body), 'u1', CURSOR), JSON.stringify(body)).toThrow(
        refused,
      );
    // NaN and Infinity are not JSON: they arrive as null or as a parse error.
    expect(() => decodePageToken(forge({ f: 'u1', p: [Number.NaN, ID] }), 'u1', CURSOR)).toThrow(
      refused,
    );
    expect(() =>
      decodePageToken(Buffer.from('{"f":"u1","p":[NaN]}').toString('base64url'), 'u1', CURSOR),
    ).toThrow(refused);
  });

  it('refuse forged keys Postgres would choke on or no key can have', () => {
    for (const p of [
      ['user-1', 'admin\u0000'],
      ['\u0007', 'admin'],
      ['user-1', '\ud800'],
      ['', 'admin'],
      ['user-1', 'a'.repeat(257)],
      ['user-1', 1e300],
      ['user-1', null],
      ['user-1', ['admin']],
      'user-1',
    ])
      expect(
        () => decodePageToken(forge({ f: 'roles', p }), 'roles', ['key', 'key']),
        JSON.stringify(p),
      ).toThrow(refused);
  });

  it('accept the oldest and latest times a row can have, and read ids in lower case', () => {
    for (const t of [0, 253_402_300_799_999])
      expect(decodePageToken(forge({ f: 'u1', p: [t, ID.toUpperCase()] }), 'u1', CURSOR)).toEqual([
        new Date(t),
        ID,
      ]);
  });

  it('refuse huge, non-base64url and non-JSON tokens before decoding them', () => {
    for (const bad of [
      'A'.repeat(1_000_000),
      'eyJ1Ijoi/+==',
      '%%%',
      'not base64 !',
      forge('x').slice(1),
      forge({ f: 'u1', p: [1, ID], pad: 'a'.repeat(2000) }),
    ])
      expect(() => decodePageToken(bad, 'u1', CURSOR)).toThrow(refused);
  });
});
