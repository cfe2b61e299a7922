import { describe, expect, it } from 'vitest';
import { emailProblem, normalizeEmail } from './email.js';

describe('email', () => {
  it('normalizes by trimming and lower-casing', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM \t')).toBe('ada.lovelace@example.com');
  });

  it.each([
    'ada@example.com',
    'a.b+tag@sub.example.co.uk',
    'x@xn--bcher-kva.example',
    'jürgen@münchen.de',
  ])('accepts %s', (email) => {
    expect(emailProblem(email)).toBeUndefined();
  });

  it.each([
    ['', 'is required'],
    ['ada', 'is not a valid email address'],
    ['@example.com', 'is not a valid email address'],
    ['ada@', 'is not a valid email address'],
    ['ada@localhost', 'is not a valid email address'],
    ['ada lovelace@example.com', 'is not a valid email address'],
    ['ada@@example.com', 'is not a valid email address'],
    ['ada@exa mple.com', 'is not a valid email address'],
    ['ada\u0000@example.com', 'is not a valid email address'],
    ['ada@-example.com', 'is not a valid email address'],
    [`${'a'.repeat(65)}@example.com`, 'is not a valid email address'],
  ])('refuses %j: %s', (email, problem) => {
    expect(emailProblem(email)).toBe(problem);
  });

  it('refuses more than 254 characters, however long', () => {
    expect(emailProblem(`${'a'.repeat(1_000_000)}@example.com`)).toBe(
      'must be at most 254 characters',
    );
    expect(
      emailProblem(`${'a'.repeat(64)}@${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(62)}.com`),
    ).toBe('must be at most 254 characters');
  });
});
