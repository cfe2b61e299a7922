import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from './page-token.js';

const forge = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
const refused = expect.objectContaining({ kind: 'INVALID_ARGUMENT', reason: 'INVALID_PAGE_TOKEN' });

describe('authz page tokens', () => {
  it('round-trip the position for the same listing and refuse another listing', () => {
    const token = encodePageToken('assignments::', ['user-1', 'admin']);
    expect(decodePageToken(token, 'assignments::', 2)).toEqual(['user-1', 'admin']);
    expect(decodePageToken('', 'roles', 1)).toBeUndefined();
    expect(() => decodePageToken(token, 'assignments:user-1:', 2)).toThrow(refused);
    expect(() => decodePageToken(token, 'assignments::', 1)).toThrow(refused);
  });

  it('refuse forged positions Postgres would choke on or no key can have', () => {
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
        () => decodePageToken(forge({ f: 'assignments::', p }), 'assignments::', 2),
        JSON.stringify(p),
      ).toThrow(refused);
    for (const body of [null, 9e15, 'x', [], { f: 'assignments::' }])
      expect(() => decodePageToken(forge(body), 'assignments::', 2)).toThrow(refused);
  });

  it('refuse huge, non-base64url and non-JSON tokens', () => {
    for (const bad of ['A'.repeat(1_000_000), 'eyJm/+==', 'not base64 !', forge('x').slice(1)])
      expect(() => decodePageToken(bad, 'roles', 1)).toThrow(refused);
  });
});
