/** RFC 5321 limits: 254 characters in all, 64 before the @. */
export const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

// Deliberately plain: one @, no spaces or control characters, a dotted domain of sane labels.
const LOCAL_PART = /^[^\s@\p{Cc}]+$/u;
const DOMAIN =
  /^(?=.{1,253}$)(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}\p{N}]{2,63}$/u;

export const normalizeEmail = (raw: string): string => raw.trim().toLowerCase();

/** Why a normalized email is unacceptable, or undefined when it is fine. */
export function emailProblem(email: string): string | undefined {
  if (email.length === 0) return 'is required';
  if (email.length > MAX_EMAIL_LENGTH) return `must be at most ${MAX_EMAIL_LENGTH} characters`;
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (
    at <= 0 ||
    !LOCAL_PART.test(local) ||
    local.length > MAX_LOCAL_PART_LENGTH ||
    !DOMAIN.test(domain)
  ) {
    return 'is not a valid email address';
  }
  return undefined;
}
