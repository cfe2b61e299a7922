import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';
import type { PasswordHasher } from '../../application/ports.js';

export interface Argon2Params {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}

/** OWASP's argon2id minimum, and DESIGN's default: m=19456 KiB, t=2, p=1. */
export const STANDARD_ARGON2: Argon2Params = { memoryKib: 19456, iterations: 2, parallelism: 1 };

export const isWeakerThanStandard = (params: Argon2Params): boolean =>
  params.memoryKib < STANDARD_ARGON2.memoryKib ||
  params.iterations < STANDARD_ARGON2.iterations ||
  params.parallelism < STANDARD_ARGON2.parallelism;

// Algorithm is an ambient const enum, which isolatedModules cannot inline: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

/** argon2id through @node-rs/argon2 (libuv thread pool); unknown users cost a dummy verification. */
export class Argon2PasswordHasher implements PasswordHasher {
  private constructor(
    private readonly options: Options,
    private readonly dummyHash: string,
    private readonly observe: (matched: boolean) => void,
  ) {}

  /**
   * Makes the dummy hash with the same parameters, so a missing user costs a real verification.
   * `observe` hears every verification that ran argon2 (a metric: the rate of password checks).
   */
  static async create(
    params: Argon2Params,
    observe: (matched: boolean) => void = () => undefined,
  ): Promise<Argon2PasswordHasher> {
    const options: Options = {
      algorithm: ARGON2ID,
      memoryCost: params.memoryKib,
      timeCost: params.iterations,
      parallelism: params.parallelism,
    };
    return new Argon2PasswordHasher(
      options,
      await hash(randomBytes(32).toString('base64url'), options),
      observe,
    );
  }

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  /** Anything but argon2id with this hasher's parameters (imported or older hashes). */
  needsRehash(passwordHash: string): boolean {
    const { memoryCost, timeCost, parallelism } = this.options;
    return !passwordHash.startsWith(
      `$argon2id$v=19$m=${memoryCost},t=${timeCost},p=${parallelism}$`,
    );
  }

  async verify(password: string, passwordHash: string | undefined): Promise<boolean> {
    const matched = await this.verifyAgainst(password, passwordHash);
    this.observe(matched);
    return matched;
  }

  private async verifyAgainst(
    password: string,
    passwordHash: string | undefined,
  ): Promise<boolean> {
    if (passwordHash === undefined) {
      await verify(this.dummyHash, password);
      return false;
    }
    try {
      return await verify(passwordHash, password);
    } catch {
      // A stored hash that does not parse can never match.
      return false;
    }
  }
}
