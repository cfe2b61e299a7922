import { describe, expect, it } from 'vitest';
import {
  Argon2PasswordHasher,
  isWeakerThanStandard,
  STANDARD_ARGON2,
} from './argon2-password-hasher.js';

const CHEAP = { memoryKib: 256, iterations: 1, parallelism: 1 };

describe('Argon2PasswordHasher', () => {
  it('hashes with argon2id and the standard parameters m=19456, t=2, p=1', async () => {
    const hasher = await Argon2PasswordHasher.create(STANDARD_ARGON2);
    const hash = await hasher.hash('correct horse battery');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(hash).not.toContain('correct horse battery');
  });

  it('verifies the right password only, salting every hash', async () => {
    const hasher = await Argon2PasswordHasher.create(CHEAP);
    const hash = await hasher.hash('correct horse battery');
    expect(await hasher.hash('correct horse battery')).not.toBe(hash);
    expect(await hasher.verify('correct horse battery', hash)).toBe(true);
    expect(await hasher.verify('wrong horse battery', hash)).toBe(false);
  });

  it('tells the observer of every verification and its outcome, dummy ones included', async () => {
    const seen: boolean[] = [];
    const hasher = await Argon2PasswordHasher.create(CHEAP, (matched) => seen.push(matched));
    const hash = await hasher.hash('correct horse battery');
    await hasher.verify('correct horse battery', hash);
    await hasher.verify('wrong horse battery', hash);
    await hasher.verify('anything at all', undefined);
    expect(seen).toEqual([true, false, false]);
  });

  it('returns false without a hash (after a dummy verification) and for a hash that does not parse', async () => {
    const hasher = await Argon2PasswordHasher.create(CHEAP);
    expect(await hasher.verify('anything at all', undefined)).toBe(false);
    expect(await hasher.verify('anything at all', 'not-a-phc-string')).toBe(false);
  });

  it('knows which parameters are below the standard', () => {
    expect(isWeakerThanStandard(STANDARD_ARGON2)).toBe(false);
    expect(isWeakerThanStandard({ ...STANDARD_ARGON2, memoryKib: 65536, iterations: 3 })).toBe(
      false,
    );
    expect(isWeakerThanStandard(CHEAP)).toBe(true);
    expect(isWeakerThanStandard({ ...STANDARD_ARGON2, iterations: 1 })).toBe(true);
  });
});
