import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'wst_';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
export const MIN_TOKEN_BYTES = 32;
/** Longest token we bother hashing: 512 characters covers any configured length. */
const MAX_TOKEN_LENGTH = 512;

/** A new session token, `wst_` + random bytes in base64url (no padding), and the hash we keep. */
export function issueToken(bytes: number): { token: string; hash: string } {
  if (!Number.isInteger(bytes) || bytes < MIN_TOKEN_BYTES)
    throw new RangeError(`a token needs at least ${MIN_TOKEN_BYTES} bytes`);
  const token = PREFIX + randomBytes(bytes).toString('base64url');
  return { token, hash: hashToken(token) };
}

export const hashToken = (token: string): string =>
  createHash('sha256').update(token).digest('hex');

/** Whether the text can be a token at all; anything else is refused without a lookup. */
export const looksLikeToken = (text: string): boolean =>
  text.length > PREFIX.length + 40 &&
  text.length <= MAX_TOKEN_LENGTH &&
  text.startsWith(PREFIX) &&
  BASE64URL.test(text.slice(PREFIX.length));
