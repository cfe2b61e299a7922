import { scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { verify as bcryptVerify } from '@node-rs/bcrypt';
import type { ImportedHashFormats, PasswordHasher } from '../../application/ports.js';

/**
 * Password hashes brought in by ImportUsers, verified as they are at sign-in until the user's next
 * successful sign-in replaces them with argon2id. Parameters are bounded so that no imported hash
 * costs a sign-in more than 256 MiB or about 1 GiB of memory passes: memory and time are bounded
 * together (argon2 m*t, scrypt N*r*p), since each bound alone let one sign-in attempt against an
 * imported user run for a minute (scrypt ln=20,r=2,p=16; argon2 m=256 MiB,t=16).
 */
const B64 = '[A-Za-z0-9+/]';
const ARGON2 = new RegExp(
  `^\\$(argon2id|argon2i)\\$v=(16|19)\\$m=(\\d{1,7}),t=(\\d{1,3}),p=(\\d{1,3})\\$(${B64}{11,})\\$(${B64}{16,})$`,
);
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const SCRYPT = new RegExp(
  `^\\$scrypt\\$ln=(\\d{1,2}),r=(\\d{1,3}),p=(\\d{1,3})\\$(${B64}{11,})\\$(${B64}{22,})$`,
);

export const IMPORT_LIMITS = {
  // m*t: libsodium's MODERATE (256 MiB, t=3) and INTERACTIVE (64 MiB, t=2) fit.
  argon2: { maxMemoryKib: 262_144, maxIterations: 16, maxParallelism: 16, maxWorkKib: 1_048_576 },
  bcrypt: { minCost: 4, maxCost: 14 },
  // N*r*p: twice passlib's default (ln=16, r=8, p=1); Django's (ln=14, r=8) fits.
  scrypt: { maxLogN: 20, maxR: 32, maxP: 16, maxMemoryBytes: 256 * 1024 * 1024, maxWork: 2 ** 20 },
} as const;

type Format =
  | { kind: 'argon2' }
  | { kind: 'bcrypt' }
  | { kind: 'scrypt'; options: ScryptOptions; salt: Buffer; key: Buffer };

/** The format of a hash and whether it is within the limits; a string means why not. */
function parse(hash: string): Format | string {
  const argon2 = ARGON2.exec(hash);
  if (argon2) {
    const [m, t, p] = [Number(argon2[3]), Number(argon2[4]), Number(argon2[5])];
    const limits = IMPORT_LIMITS.argon2;
    if (m < 8 * p || m > limits.maxMemoryKib)
      return `argon2 memory must be 8*p..${limits.maxMemoryKib} KiB`;
    if (t < 1 || t > limits.maxIterations)
      return `argon2 iterations must be 1..${limits.maxIterations}`;
    if (p < 1 || p > limits.maxParallelism)
      return `argon2 parallelism must be 1..${limits.maxParallelism}`;
    if (m * t > limits.maxWorkKib) return `argon2 m*t must be at most ${limits.maxWorkKib} KiB`;
    return { kind: 'argon2' };
  }
  const bcrypt = BCRYPT.exec(hash);
  if (bcrypt) {
    const cost = Number(bcrypt[1]);
    const { minCost, maxCost } = IMPORT_LIMITS.bcrypt;
    if (cost < minCost || cost > maxCost) return `bcrypt cost must be ${minCost}..${maxCost}`;
    return { kind: 'bcrypt' };
  }
  const scrypt = SCRYPT.exec(hash);
  if (scrypt) {
    const [ln, r, p] = [Number(scrypt[1]), Number(scrypt[2]), Number(scrypt[3])];
    const limits = IMPORT_LIMITS.scrypt;
    if (ln < 1 || ln > limits.maxLogN) return `scrypt ln must be 1..${limits.maxLogN}`;
    if (r < 1 || r > limits.maxR) return `scrypt r must be 1..${limits.maxR}`;
    if (p < 1 || p > limits.maxP) return `scrypt p must be 1..${limits.maxP}`;
    const N = 2 ** ln;
    const memory = 128 * N * r;
    if (memory > limits.maxMemoryBytes) return 'scrypt parameters need more than 256 MiB';
    if (N * r * p > limits.maxWork) return `scrypt N*r*p must be at most ${limits.maxWork}`;
    const salt = Buffer.from(scrypt[4]!, 'base64');
    const key = Buffer.from(scrypt[5]!, 'base64');
    if (key.length < 16 || key.length > 64) return 'scrypt hash must be 16..64 bytes';
    return { kind: 'scrypt', options: { N, r, p, maxmem: memory * 2 + 1024 * 1024 }, salt, key };
  }
  return 'not a supported PHC string ($argon2id$, $argon2i$, $2a$/$2b$/$2y$ bcrypt, $scrypt$)';
}

/** The formats ImportUsers accepts, with their parameter bounds. */
export const PHC_IMPORT_FORMATS: ImportedHashFormats = {
  problem(hash) {
    const format = parse(hash);
    return typeof format === 'string' ? format : undefined;
  },
};

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCallback(password, salt, keylen, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );

/** bcrypt ignores every password byte after these. */
const BCRYPT_MAX_PASSWORD_BYTES = 72;

/**
 * The service's hasher for every stored format: new hashes are argon2id (the wrapped hasher); a
 * stored bcrypt or scrypt hash is verified here, any argon2 one by the wrapped hasher. A hash that
 * is not argon2id with the current parameters `needsRehash`.
 */
export class ImportedHashesVerifier implements PasswordHasher {
  constructor(private readonly argon2id: PasswordHasher) {}

  hash(password: string): Promise<string> {
    return this.argon2id.hash(password);
  }

  async verify(password: string, hash: string | undefined): Promise<boolean> {
    // Unknown users (the dummy verification) and current hashes: the argon2id hasher as it is.
    if (hash === undefined || !this.argon2id.needsRehash(hash))
      return this.argon2id.verify(password, hash);
    // Anything else only within the import bounds, even if it reached the table another way.
    const format = parse(hash);
    try {
      if (typeof format === 'string') return false;
      if (format.kind === 'bcrypt') {
        // bcrypt reads only the first 72 bytes: a longer password is refused after the same
        // work, so one that merely begins like the real one never signs in.
        const matches = await bcryptVerify(password, hash);
        return matches && Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_PASSWORD_BYTES;
      }
      if (format.kind === 'scrypt') {
        const key = await scrypt(password, format.salt, format.key.length, format.options);
        return timingSafeEqual(key, format.key);
      }
      return await this.argon2id.verify(password, hash);
    } catch {
      // A stored hash that does not verify can never match.
      return false;
    }
  }

  needsRehash(hash: string): boolean {
    return this.argon2id.needsRehash(hash);
  }
}
