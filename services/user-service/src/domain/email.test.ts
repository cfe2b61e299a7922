import { describe, expect, it } from 'vitest';
import { emailProblem, normalizeEmail } from './email.js';

describe('email', () => {
  it('normalizes by trimming and lower-casing', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM \t')).toBe('ada.lovelace@example.com');
  });

  it('gives one spelling to NFC and NFD, and to a Unicode domain and its punycode', () => {
    const nfc = 'jos\u00e9@example.com';
    const nfd = 'jose\u0301@example.com';
    expect(normalizeEmail(nfd)).toBe(nfc);
    expect(normalizeEmail(nfc)).toBe(nfc);
    expect(normalizeEmail('ann@bücher.de')).toBe('ann@xn--bcher-kva.de');
    expect(normalizeEmail('ann@XN--BCHER-KVA.de')).toBe('ann@xn--bcher-kva.de');
    expect(normalizeEmail('ann@bu\u0308cher.DE')).toBe('ann@xn--bcher-kva.de');
    expect(normalizeEmail('ivan@пример.рф')).toBe('ivan@xn--e1afmkfd.xn--p1ai');
    // A zero-width space in the domain is mapped away (UTS #46), so it names the same domain.
    expect(normalizeEmail('ann@bü\u200bcher.de')).toBe('ann@xn--bcher-kva.de');
  });

  it('leaves what cannot be a domain as typed, for emailProblem to refuse', () => {
    for (const raw of ['ann@exa mple.com', 'ann@ex\u202eample.com', 'ann@xn--zz.com', 'ann'])
      expect(emailProblem(normalizeEmail(raw)), raw).toBe('is not a valid email address');
    expect(emailProblem(normalizeEmail(`ann@${'ü'.repeat(2000)}.de`))).toBe(
      'must be at most 254 characters',
    );
  });

  it.each([
    'ada@example.com',
    'a.b+tag@sub.example.co.uk',
    'x@xn--bcher-kva.example',
    'jürgen@xn--mnchen-3ya.de',
    'ivan@xn--e1afmkfd.xn--p1ai',
  ])('accepts %s', (email) => {
    expect(emailProblem(email)).toBeUndefined();
  });

  it('accepts a Unicode domain once normalized', () => {
    expect(emailProblem(normalizeEmail('jürgen@münchen.de'))).toBeUndefined();
    // Only the normalized (ASCII) domain is a valid stored form.
    expect(emailProblem('jürgen@münchen.de')).toBe('is not a valid email address');
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
    ['ada@example.com.', 'is not a valid email address'],
    ['ad\u200ba@example.com', 'is not a valid email address'],
    ['ad\u202ea@example.com', 'is not a valid email address'],
    ['\u2066ada@example.com', 'is not a valid email address'],
    ['ada\ufeff@example.com', 'is not a valid email address'],
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
