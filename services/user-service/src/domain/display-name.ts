export const MAX_DISPLAY_NAME_LENGTH = 100;

// Control characters, and the line/paragraph separators that break log lines and UIs alike.
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
// Format characters (bidi overrides and isolates, zero-width, BOM, tags) and lone surrogates: they
// make one name look like another or reorder the text around it. A ZWJ between emoji is allowed.
const EMOJI_JOINER =
  /(?<=\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})/gu;
const INVISIBLE = /[\p{Cf}\p{Cs}]/u;

export const normalizeDisplayName = (raw: string): string => raw.trim().normalize('NFC');

/** Why a normalized display name is unacceptable, or undefined when it is fine (empty is fine). */
export function displayNameProblem(name: string): string | undefined {
  if ([...name.slice(0, MAX_DISPLAY_NAME_LENGTH * 2 + 1)].length > MAX_DISPLAY_NAME_LENGTH) {
    return `must be at most ${MAX_DISPLAY_NAME_LENGTH} characters`;
  }
  if (CONTROL.test(name)) return 'must not contain control characters';
  if (INVISIBLE.test(name.replace(EMOJI_JOINER, '')))
    return 'must not contain invisible or text-direction characters';
  return undefined;
}
