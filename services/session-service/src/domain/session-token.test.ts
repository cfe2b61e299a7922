import { describe, expect, it } from 'vitest';
import { hashToken, issueToken, looksLikeToken } from './session-token.js';

describe('session tokens', () => {
  it('are wst_ and 32 random bytes in base64url, hashed with SHA-256', () => {
    const { token, hash } = issueToken(32);
    expect(token).toMatch(/^wst_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(hash).toBe(hashToken(token));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(issueToken(32).token).not.toBe(token);
  });

  it('may be longer, never shorter than 32 bytes', () => {
    expect(Buffer.from(issueToken(48).token.slice(4), 'base64url')).toHaveLength(48);
    expect(() => issueToken(16)).toThrow(RangeError);
  });

  it('are recognized by shape before any lookup', () => {
    expect(looksLikeToken(issueToken(32).token)).toBe(true);
    expect(looksLikeToken('')).toBe(false);
    expect(looksLikeToken('wst_short')).toBe(false);
    expect(looksLikeToken(`xyz_${'A'.repeat(43)}`)).toBe(false);
    expect(looksLikeToken(`wst_${'A'.repeat(42)}!`)).toBe(false);
    expect(looksLikeToken(`wst_${'A'.repeat(600)}`)).toBe(false);
  });
});
