import { randomBytes, scryptSync } from 'node:crypto';
import { hash as argon2Hash, type Algorithm } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';

/** Hashes as other identity systems store them, made with cheap parameters for tests. */
export const foreignHashes = {
  bcrypt: (password: string, cost = 4): Promise<string> => bcryptHash(password, cost),
  /** `$2y$` is PHP's name for the same algorithm. */
  bcrypt2y: async (password: string): Promise<string> =>
    `$2y$${(await bcryptHash(password, 4)).slice(4)}`,
  scrypt: (password: string, ln = 10, r = 8, p = 1): string => {
    const salt = randomBytes(16);
    const key = scryptSync(password, salt, 32, { N: 2 ** ln, r, p });
    const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
    return `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;
  },
  argon2i: (password: string): Promise<string> =>
    argon2Hash(password, {
      algorithm: 1 as Algorithm, // Argon2i (an ambient const enum)
      memoryCost: 1024,
      timeCost: 1,
      parallelism: 1,
    }),
  argon2id: (password: string, memoryCost = 1024): Promise<string> =>
    argon2Hash(password, { algorithm: 2 as Algorithm, memoryCost, timeCost: 1, parallelism: 1 }),
};
