import { createHash, randomBytes } from 'node:crypto';
import type { RecoveryCodes } from '../../application/ports.js';

/** Crockford's base32 alphabet: no I, L, O or U to misread. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const GROUPS = 4;
const GROUP_LENGTH = 4;

/**
 * Recovery codes of 16 base32 characters (80 random bits) in groups of four, `xxxx-xxxx-xxxx-xxxx`.
 * At that entropy a SHA-256 is enough to keep them (no one guesses 2^80), so the hash is a plain
 * lookup key; a presented code is normalized first (case, dashes and spaces do not matter).
 */
export class RandomRecoveryCodes implements RecoveryCodes {
  issue(count: number): { codes: string[]; hashes: string[] } {
    const codes = Array.from({ length: count }, () => newCode());
    return { codes, hashes: codes.map((code) => this.hashOf(code)) };
  }

  hashOf(code: string): string {
    const normalized = code.toLowerCase().replace(/[\s-]/g, '');
    return createHash('sha256').update(`warden-recovery-code\n${normalized}`).digest('base64url');
  }
}

function newCode(): string {
  const bytes = randomBytes(GROUPS * GROUP_LENGTH);
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0 && i % GROUP_LENGTH === 0) text += '-';
    text += ALPHABET[bytes[i]! & 31];
  }
  return text;
}
