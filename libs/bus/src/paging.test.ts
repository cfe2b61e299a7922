import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken, pageSize, readPage } from './paging.js';

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

describe('readPage', () => {
  const NUMBERS = ['1', '2', '3', '4', '5'];
  const reads: Array<[string | undefined, number]> = [];
  const numbers = {
    scope: 'numbers',
    key: ['key'] as const,
    keyOf: (n: string) => [n],
    read: async (after: readonly [string] | undefined, count: number) => {
      reads.push([after?.[0], count]);
      return NUMBERS.filter((n) => after === undefined || n > after[0]).slice(0, count);
    },
  };

  it('pages through a listing with one extra row read per page, the last page with no token', async () => {
    reads.length = 0;
    const first = await readPage({ pageSize: 2, pageToken: '' }, numbers);
    const second = await readPage({ pageSize: 2, pageToken: first.nextPageToken }, numbers);
    const last = await readPage({ pageSize: 2, pageToken: second.nextPageToken }, numbers);
    expect([first.items, second.items, last.items]).toEqual([['1', '2'], ['3', '4'], ['5']]);
    expect(last.nextPageToken).toBe('');
    expect(reads).toEqual([
      [undefined, 3],
      ['2', 3],
      ['4', 3],
    ]);
  });

  it('refuses a negative size or another scope before reading', async () => {
    reads.length = 0;
    const other = encodePageToken('letters', ['a']);
    await expect(readPage({ pageSize: -1, pageToken: '' }, numbers)).rejects.toMatchObject({
      violations: [{ field: 'page_size', description: 'must not be negative' }],
    });
    await expect(readPage({ pageSize: 2, pageToken: other }, numbers)).rejects.toEqual(refused);
    expect(reads).toEqual([]);
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
