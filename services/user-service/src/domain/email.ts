import { domainToASCII } from 'node:url';

/** RFC 5321 limits: 254 characters in all, 64 before the @. */
export const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

// Deliberately plain: one @, no spaces, control or invisible format characters (bidi, zero-width).
const LOCAL_PART = /^[^\s@\p{Cc}\p{Cf}\p{Cs}]+$/u;
// The domain as normalizeEmail leaves it: ASCII labels, internationalized ones in valid punycode.
const DOMAIN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z0-9]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * One spelling per address: NFC, lower case, the domain in its ASCII (punycode) form, so
 * "josé" typed NFC or NFD, and bücher.de or xn--bcher-kva.de, name the same account.
 */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase().normalize('NFC');
  const at = email.lastIndexOf('@');
  if (at < 0) return email;
  // Refused names (spaces, bad labels) come back empty: kept as typed, emailProblem refuses them.
  const ascii = email.length > MAX_EMAIL_LENGTH * 4 ? '' : domainToASCII(email.slice(at + 1));
  return ascii === '' ? email : `${email.slice(0, at)}@${ascii}`;
}

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
    !DOMAIN.test(domain) ||
    domainToASCII(domain) !== domain
  ) {
    return 'is not a valid email address';
  }
  return undefined;
}
