// The physical limit of the argon2 benchmarks: @node-rs/argon2 itself, the very package
// user-service hashes with, called bare. The root package does not depend on it, so it is loaded
// from user-service's own dependencies: the same binary, in this process, on the same libuv pool.
import { createRequire } from 'node:module';
import {
  STANDARD_ARGON2,
  type Argon2Params,
} from '../../services/user-service/src/adapters/crypto/argon2-password-hasher.js';

type Argon2Module =
  typeof import('../../services/user-service/node_modules/@node-rs/argon2/index.js');

const fromUserService = createRequire(
  new URL('../../services/user-service/package.json', import.meta.url),
);
const argon2 = fromUserService('@node-rs/argon2') as Argon2Module;

/** user-service's production parameters (m=19456 KiB, t=2, p=1), as DESIGN requires. */
export const PRODUCTION_ARGON2: Argon2Params = STANDARD_ARGON2;

// Algorithm is an ambient const enum, which isolatedModules cannot inline: 2 is Argon2id.
const ARGON2ID =
  2 as import('../../services/user-service/node_modules/@node-rs/argon2/index.js').Algorithm;

const optionsOf = (params: Argon2Params) => ({
  algorithm: ARGON2ID,
  memoryCost: params.memoryKib,
  timeCost: params.iterations,
  parallelism: params.parallelism,
});

export const rawHash = (password: string, params: Argon2Params = PRODUCTION_ARGON2) =>
  argon2.hash(password, optionsOf(params));

export const rawVerify = (hash: string, password: string) => argon2.verify(hash, password);
