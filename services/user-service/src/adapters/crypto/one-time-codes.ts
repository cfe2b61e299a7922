import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { OneTimeCodes } from '../../application/ports.js';

/** A code's stored form: its SHA-256 (the code carries 256 random bits, so no salt or stretching). */
const sha256 = (code: string): Buffer => createHash('sha256').update(code, 'utf8').digest();

/** 32 random bytes in base64url (43 characters); only the SHA-256 is stored. */
export const randomOneTimeCodes: OneTimeCodes = {
  issue() {
    const code = randomBytes(32).toString('base64url');
    return { code, codeHash: sha256(code) };
  },
  matcher(code) {
    const presented = sha256(code);
    return (codeHash) =>
      codeHash.byteLength === presented.byteLength && timingSafeEqual(codeHash, presented);
  },
};
