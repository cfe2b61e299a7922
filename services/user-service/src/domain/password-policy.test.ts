import { describe, expect, it } from 'vitest';
import { isImplausiblePassword, passwordProblem } from './password-policy.js';

describe('password policy', () => {
  it('accepts 8 to 128 characters', () => {
    expect(passwordProblem('12345678')).toBeUndefined();
    expect(passwordProblem('x'.repeat(128))).toBeUndefined();
  });

  it('refuses fewer than 8 and more than 128 characters', () => {
    expect(passwordProblem('')).toBe('must be at least 8 characters');
    expect(passwordProblem('1234567')).toBe('must be at least 8 characters');
    expect(passwordProblem('x'.repeat(129))).toBe('must be at most 128 characters');
    expect(passwordProblem('x'.repeat(1_000_000))).toBe('must be at most 128 characters');
  });

  it('counts characters, not UTF-16 units', () => {
    expect(passwordProblem('🔑🔑🔑🔑')).toBe('must be at least 8 characters');
    expect(passwordProblem('🔑'.repeat(128))).toBeUndefined();
  });

  it('calls only absurd lengths implausible', () => {
    expect(isImplausiblePassword('x'.repeat(256))).toBe(false);
    expect(isImplausiblePassword('x'.repeat(257))).toBe(true);
  });
});
