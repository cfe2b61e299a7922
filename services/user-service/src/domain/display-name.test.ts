import { describe, expect, it } from 'vitest';
import { displayNameProblem, normalizeDisplayName } from './display-name.js';

describe('display name', () => {
  it('is trimmed and may be empty', () => {
    expect(normalizeDisplayName('  Ada  ')).toBe('Ada');
    expect(displayNameProblem('')).toBeUndefined();
  });

  it('allows 100 characters, counting emoji as one', () => {
    expect(displayNameProblem('a'.repeat(100))).toBeUndefined();
    expect(displayNameProblem('😀'.repeat(100))).toBeUndefined();
    expect(displayNameProblem('a'.repeat(101))).toBe('must be at most 100 characters');
    expect(displayNameProblem('a'.repeat(1_000_000))).toBe('must be at most 100 characters');
  });

  it.each(['Ada\nLovelace', 'Ada\u0000', 'Ada\u001b[31m', 'Ada\u2028x', 'tab\there'])(
    'refuses control characters in %j',
    (name) => {
      expect(displayNameProblem(name)).toBe('must not contain control characters');
    },
  );
});
