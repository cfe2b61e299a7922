export const MAX_DISPLAY_NAME_LENGTH = 100;

// Control characters, and the line/paragraph separators that break log lines and UIs alike.
const FORBIDDEN = /[\p{Cc}\u2028\u2029]/u;

export const normalizeDisplayName = (raw: string): string => raw.trim();

/** Why a normalized display name is unacceptable, or undefined when it is fine (empty is fine). */
export function displayNameProblem(name: string): string | undefined {
  if ([...name.slice(0, MAX_DISPLAY_NAME_LENGTH * 2 + 1)].length > MAX_DISPLAY_NAME_LENGTH) {
    return `must be at most ${MAX_DISPLAY_NAME_LENGTH} characters`;
  }
  if (FORBIDDEN.test(name)) return 'must not contain control characters';
  return undefined;
}
