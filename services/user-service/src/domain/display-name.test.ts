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

  it('is NFC-normalized, so NFD and NFC spellings are one name', () => {
    expect(normalizeDisplayName('Jose\u0301')).toBe('Jos\u00e9');
  });

  it.each([
    ['right-to-left override', 'Ada\u202Egnp.exe'],
    ['left-to-right embedding', '\u202AAda'],
    ['pop directional formatting', 'Ada\u202C'],
    ['first strong isolate', 'Ada\u2068x'],
    ['left-to-right isolate', '\u2066Ada\u2069'],
    ['zero-width space', 'Ad\u200Ba'],
    ['zero-width non-joiner', 'Ad\u200Ca'],
    ['zero-width joiner between letters', 'Ad\u200Da'],
    ['word joiner', 'Ad\u2060a'],
    ['byte order mark inside', 'Ad\uFEFFa'],
    ['soft hyphen', 'Ad\u00ADa'],
    ['Arabic letter mark', 'Ada\u061C'],
    ['tag characters', 'Ada\u{E0041}'],
    ['a lone surrogate', 'Ada\uD800'],
    ['a ZWJ after an emoji but before a letter', '\u{1F468}\u200Da'],
  ])('refuses a %s', (_what, name) => {
    expect(displayNameProblem(normalizeDisplayName(name))).toBe(
      'must not contain invisible or text-direction characters',
    );
  });

  it.each([
    ['a family emoji (ZWJ sequence)', '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}'],
    ['a skin-toned ZWJ sequence', '\u{1F469}\u{1F3FD}\u200D\u{1F4BB}'],
    ['a heart with its variation selector', '\u2764\uFE0F\u200D\u{1F525}'],
    ['Arabic and Hebrew letters', 'مريم ו-דוד'],
    ['accents and CJK', 'Zoë 山田'],
  ])('accepts %s', (_what, name) => {
    expect(displayNameProblem(normalizeDisplayName(name))).toBeUndefined();
  });
});
