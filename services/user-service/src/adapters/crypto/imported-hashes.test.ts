import { describe, expect, it } from 'vitest';
import { foreignHashes } from '../../../test/support/foreign-hashes.js';
import { Argon2PasswordHasher } from './argon2-password-hasher.js';
import { ImportedHashesVerifier, PHC_IMPORT_FORMATS } from './imported-hashes.js';

const PASSWORD = 'imported secret 1';
const verifier = async () =>
  new ImportedHashesVerifier(
    await Argon2PasswordHasher.create({ memoryKib: 512, iterations: 1, parallelism: 1 }),
  );

describe('imported password hashes', () => {
  it.each([
    ['bcrypt $2b$', () => foreignHashes.bcrypt(PASSWORD)],
    ['bcrypt $2y$', () => foreignHashes.bcrypt2y(PASSWORD)],
    ['scrypt', async () => foreignHashes.scrypt(PASSWORD)],
    ['argon2i', () => foreignHashes.argon2i(PASSWORD)],
    ['argon2id with other parameters', () => foreignHashes.argon2id(PASSWORD)],
  ])('verifies %s as it is, refuses a wrong password, and wants it rehashed', async (_, make) => {
    const hash = await make();
    const hasher = await verifier();
    expect(PHC_IMPORT_FORMATS.problem(hash)).toBeUndefined();
    expect(await hasher.verify(PASSWORD, hash)).toBe(true);
    expect(await hasher.verify('not the password', hash)).toBe(false);
    expect(hasher.needsRehash(hash)).toBe(true);
  });

  it('refuses a password longer than 72 bytes whose first 72 bytes match a bcrypt hash', async () => {
    const hasher = await verifier();
    const exact = 'é'.repeat(36); // 72 bytes in UTF-8
    const hash = await foreignHashes.bcrypt(exact);
    expect(await hasher.verify(exact, hash)).toBe(true);
    expect(await hasher.verify(`${exact}anything`, hash)).toBe(false);
    expect(await hasher.verify(`${exact}!`, await foreignHashes.bcrypt(`${exact}?`))).toBe(false);
  });

  it('keeps its own argon2id hashes as they are', async () => {
    const hasher = await verifier();
    const own = await hasher.hash(PASSWORD);
    expect(own.startsWith('$argon2id$v=19$m=512,t=1,p=1$')).toBe(true);
    expect(hasher.needsRehash(own)).toBe(false);
    expect(await hasher.verify(PASSWORD, own)).toBe(true);
  });

  it.each([
    ['plaintext', 'hunter2'],
    ['md5 crypt', '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/'],
    ['sha512 crypt', `$6$rounds=5000$salt$${'a'.repeat(86)}`],
    ['bcrypt of the wrong length', '$2b$10$short'],
    ['bcrypt cost 31', `$2b$31$${'a'.repeat(53)}`],
    ['bcrypt cost 3', `$2b$03$${'a'.repeat(53)}`],
    ['argon2d', '$argon2d$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    [
      'argon2id with 4 GiB of memory',
      '$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
    ],
    [
      'argon2id with 100 passes',
      '$argon2id$v=19$m=1024,t=100,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
    ],
    [
      'scrypt needing 1 GiB',
      '$scrypt$ln=20,r=8,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
    ],
    // Within each bound alone, but a minute of CPU per sign-in attempt (memory x passes).
    [
      'scrypt ln=20,r=2,p=16 (256 MiB, 16 passes)',
      '$scrypt$ln=20,r=2,p=16$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
    ],
    [
      'scrypt ln=14,r=32,p=16 (64 MiB, 16 passes)',
      '$scrypt$ln=14,r=32,p=16$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
    ],
    [
      'argon2id with 256 MiB and 16 passes',
      '$argon2id$v=19$m=262144,t=16,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
    ],
    ['scrypt with a short key', '$scrypt$ln=10,r=8,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNo'],
  ])('refuses %s for import, and never matches it', async (_, hash) => {
    expect(PHC_IMPORT_FORMATS.problem(hash)).toMatch(/.+/);
    expect(await (await verifier()).verify('hunter2', hash)).toBe(false);
  });

  it.each([
    ['argon2id as libsodium MODERATE (256 MiB, t=3)', '$argon2id$v=19$m=262144,t=3,p=1'],
    ['argon2id as libsodium INTERACTIVE (64 MiB, t=2)', '$argon2id$v=19$m=65536,t=2,p=1'],
    ['scrypt as passlib (ln=16, r=8, p=1)', '$scrypt$ln=16,r=8,p=1'],
    ['scrypt at the work bound (ln=17, r=8, p=1)', '$scrypt$ln=17,r=8,p=1'],
  ])('accepts %s for import', (_, prefix) => {
    const tail = prefix.startsWith('$scrypt')
      ? '$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA'
      : '$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
    expect(PHC_IMPORT_FORMATS.problem(prefix + tail)).toBeUndefined();
  });
});
