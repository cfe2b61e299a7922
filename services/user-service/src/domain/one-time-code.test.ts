import { describe, expect, it } from 'vitest';
import { judgeCode, MAX_CODE_ATTEMPTS, type StoredCode } from './one-time-code.js';

const now = new Date('2026-03-01T10:00:00.000Z');
const stored = (overrides: Partial<StoredCode> = {}): StoredCode => ({
  codeHash: new Uint8Array([1, 2, 3]),
  expireTime: new Date(now.getTime() + 60_000),
  attempts: 0,
  ...overrides,
});
const matches = () => true;
const differs = () => false;

describe('judgeCode', () => {
  it('has nothing to judge without a stored code', () => {
    expect(judgeCode(undefined, matches, now)).toEqual({ kind: 'ABSENT' });
  });

  it('matches a live code', () => {
    expect(judgeCode(stored(), matches, now)).toEqual({ kind: 'MATCH' });
  });

  it('finds a code expired at its expire_time, even the right one', () => {
    expect(judgeCode(stored({ expireTime: now }), matches, now)).toEqual({ kind: 'EXPIRED' });
  });

  it('counts a wrong code and burns it at the fifth', () => {
    expect(judgeCode(stored({ attempts: 0 }), differs, now)).toEqual({
      kind: 'WRONG',
      burn: false,
      attempts: 1,
    });
    expect(judgeCode(stored({ attempts: MAX_CODE_ATTEMPTS - 1 }), differs, now)).toEqual({
      kind: 'WRONG',
      burn: true,
      attempts: MAX_CODE_ATTEMPTS,
    });
  });
});
