import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from './page-token.js';

const forge = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
const refused = expect.objectContaining({ kind: 'INVALID_ARGUMENT', reason: 'INVALID_PAGE_TOKEN' });
const ID = '0190a0b0-0000-7000-8000-000000000001';
const FILTER = { emailPrefix: 'ann' };

describe('user page tokens', () => {
  it('round-trip the cursor for the same filters, and refuse other filters', () => {
    const cursor = { createTime: new Date('2026-01-01T00:00:00.123Z'), id: ID };
    const token = encodePageToken(cursor, FILTER);
    expect(decodePageToken(token, FILTER)).toEqual(cursor);
    expect(() => decodePageToken(token, { emailPrefix: 'bob' })).toThrow(refused);
    expect(() => decodePageToken(token, { emailPrefix: 'ann', status: 'ACTIVE' })).toThrow(refused);
  });

  it('refuse forged times, ids and shapes with a page_token violation', () => {
    const forged: unknown[] = [
      [1e300, ID, 'ann', ''],
      [9e15, ID, 'ann', ''],
      [253_402_300_800_000, ID, 'ann', ''],
      [-1, ID, 'ann', ''],
      [-8.64e15, ID, 'ann', ''],
      [1.5, ID, 'ann', ''],
      [null, ID, 'ann', ''],
      ['1700000000000', ID, 'ann', ''],
      [1, 'not-a-uuid', 'ann', ''],
      [1, `${ID}\u0000`, 'ann', ''],
      [1, 7, 'ann', ''],
      [1, ID, 3, ''],
      [1, ID, 'ann'],
      [1, ID, 'ann', '', 'extra'],
      { t: 1, i: ID },
      null,
    ];
    for (const body of forged) {
      let error: unknown;
      try {
        decodePageToken(forge(body), FILTER);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(body)).toEqual(refused);
      expect((error as { violations: unknown }).violations).toEqual([
        expect.objectContaining({ field: 'page_token' }),
      ]);
    }
  });

  it('refuse huge, non-base64url and non-JSON tokens', () => {
    for (const bad of [
      'A'.repeat(1_000_000),
      'eyJ1Ijoi/+==',
      'not base64 !',
      Buffer.from('[NaN,"x","",""]').toString('base64url'),
      Buffer.from(`[1,"${ID}","${'a'.repeat(2000)}",""]`).toString('base64url'),
    ])
      expect(() => decodePageToken(bad, FILTER)).toThrow(refused);
  });
});
