import { TablePermissionChecker } from '@warden/bus';
import { describe, expect, it } from 'vitest';
import { aCallContext, aUser } from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { foreignHashes } from '../../../test/support/foreign-hashes.js';
import { aTestApp } from '../../../test/support/test-app.js';
import { Argon2PasswordHasher } from '../../adapters/crypto/argon2-password-hasher.js';
import { ImportedHashesVerifier } from '../../adapters/crypto/imported-hashes.js';
import { METADATA_LIMITS } from '../../domain/metadata.js';
import type { ImportedUserRow, ImportUsers } from './import-users.js';

const ADMIN = '0190c7a6-0000-7000-8000-00000000a001';
const PLAYER = '0190c7a6-0000-7000-8000-00000000b001';
const PASSWORD = 'brought along 42';

async function setup() {
  const app = aTestApp({
    authorizer: new TablePermissionChecker({ [ADMIN]: ['*'], [PLAYER]: ['user.read:own'] }),
    passwordHasher: new ImportedHashesVerifier(
      await Argon2PasswordHasher.create({ memoryKib: 512, iterations: 1, parallelism: 1 }),
    ),
  });
  const admin = aCallContext({ user: { userId: ADMIN, sessionId: 's-admin' } });
  const importUsers = (cmd: Partial<ImportUsers> & { users: ImportedUserRow[] }, ctx = admin) =>
    app.bus.run(app.useCases.importUsers, { requestId: '', ...cmd }, ctx);
  const signIn = (email: string, password = PASSWORD) =>
    app.bus.run(
      app.useCases.verifyCredentials,
      { email, password },
      aCallContext({ service: { name: 'session-service' } }),
    );
  return { app, importUsers, signIn };
}

const row = (overrides: Partial<ImportedUserRow> & { passwordHash: string }): ImportedUserRow => ({
  email: `imported-${Math.random().toString(36).slice(2)}@example.com`,
  displayName: 'Imported',
  emailVerified: false,
  externalId: '',
  metadata: {},
  ...overrides,
});

describe('ImportUsers', () => {
  it('imports bcrypt, scrypt, argon2i and argon2id users who sign in with their old passwords and are rehashed to argon2id once', async () => {
    const { app, importUsers, signIn } = await setup();
    const hashes = [
      await foreignHashes.bcrypt(PASSWORD),
      foreignHashes.scrypt(PASSWORD),
      await foreignHashes.argon2i(PASSWORD),
      await foreignHashes.argon2id(PASSWORD),
    ];
    const rows = hashes.map((passwordHash, i) =>
      row({ email: `old${i}@example.com`, passwordHash }),
    );
    const results = await importUsers({ users: rows });
    expect(results.map((r) => ('userId' in r ? 'ok' : r.reason))).toEqual(['ok', 'ok', 'ok', 'ok']);
    for (const [i, result] of results.entries()) {
      const id = (result as { userId: string }).userId;
      expect((await app.users.get(id))?.passwordHash).toBe(hashes[i]);
      await expectAppError(signIn(`old${i}@example.com`, 'wrong password 1'), 'UNAUTHENTICATED');
      expect((await app.users.get(id))?.passwordHash).toBe(hashes[i]); // a failure rehashes nothing
      await expect(signIn(`old${i}@example.com`)).resolves.toMatchObject({ userId: id });
      const rehashed = (await app.users.get(id))!.passwordHash;
      expect(rehashed.startsWith('$argon2id$v=19$m=512,t=1,p=1$')).toBe(true);
      await signIn(`old${i}@example.com`);
      expect((await app.users.get(id))!.passwordHash).toBe(rehashed); // once
    }
    // One registered event per imported user (default roles follow), marked imported.
    expect(app.users.eventsOfType('registered')).toHaveLength(4);
    expect(app.users.eventsOfType('registered').every((e) => e.imported === true)).toBe(true);
    expect(app.users.eventsOfType('password_changed')).toEqual([]);
  });

  it('keeps email_verified, external_id and metadata', async () => {
    const { app, importUsers } = await setup();
    const [result] = await importUsers({
      users: [
        row({
          email: ' Kept@Example.com ',
          passwordHash: await foreignHashes.bcrypt(PASSWORD),
          emailVerified: true,
          externalId: 'legacy-42',
          metadata: { 'public.plan': 'gold', tier: '3' },
        }),
      ],
    });
    const user = await app.users.get((result as { userId: string }).userId);
    expect(user).toMatchObject({
      email: 'kept@example.com',
      emailVerified: true,
      externalId: 'legacy-42',
      metadata: { 'public.plan': 'gold', tier: '3' },
      status: 'ACTIVE',
    });
  });

  it('reports each refused row and imports the rest: EMAIL_TAKEN, EXTERNAL_ID_TAKEN, INVALID_HASH, INVALID_ARGUMENT', async () => {
    const { app, importUsers } = await setup();
    const existing = aUser({ email: 'taken@example.com', externalId: 'ext-taken' });
    await app.given(existing);
    const good = await foreignHashes.bcrypt(PASSWORD);
    const results = await importUsers({
      users: [
        row({ email: 'taken@example.com', passwordHash: good }),
        row({ externalId: 'ext-taken', passwordHash: good }),
        row({ passwordHash: '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/' }),
        row({ passwordHash: 'plaintext-password' }),
        row({ email: 'not an email', passwordHash: good }),
        row({ email: 'twice@example.com', passwordHash: good }),
        row({ email: 'TWICE@example.com', passwordHash: good }),
        row({ passwordHash: good, metadata: { 'bad key!': 'x' } }),
        row({ email: 'fine@example.com', passwordHash: good }),
      ],
    });
    expect(results.map((r) => ('userId' in r ? 'ok' : r.reason))).toEqual([
      'EMAIL_TAKEN',
      'EXTERNAL_ID_TAKEN',
      'INVALID_HASH',
      'INVALID_HASH',
      'INVALID_ARGUMENT',
      'ok',
      'EMAIL_TAKEN',
      'INVALID_ARGUMENT',
      'ok',
    ]);
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // A refusal never echoes the hash.
    for (const r of results) {
      if ('message' in r) {
        expect(r.message).not.toContain('qjXMvbEw8oaL');
        expect(r.message).not.toContain(good.slice(7));
      }
    }
    expect(app.users.eventsOfType('registered')).toHaveLength(2);
  });

  it('replays the first results for the same request_id and refuses it for another request', async () => {
    const { app, importUsers } = await setup();
    const users = [
      row({ email: 'once@example.com', passwordHash: await foreignHashes.bcrypt(PASSWORD) }),
    ];
    const first = await importUsers({ users, requestId: 'import-1' });
    const again = await importUsers({ users, requestId: 'import-1' });
    expect(again).toEqual(first);
    expect(app.users.eventsOfType('registered')).toHaveLength(1);
    await expectAppError(
      importUsers({ users: [{ ...users[0]!, email: 'other@example.com' }], requestId: 'import-1' }),
      'ALREADY_EXISTS',
      'IDEMPOTENCY_KEY_REUSED',
    );
  });

  it('refuses a request_id replayed with other password hashes instead of answering the first import', async () => {
    const { app, importUsers } = await setup();
    const email = 'rehashed@example.com';
    const first = [row({ email, passwordHash: await foreignHashes.bcrypt(PASSWORD) })];
    await importUsers({ users: first, requestId: 'import-hashes' });
    const otherHash = [row({ email, passwordHash: await foreignHashes.bcrypt('another secret') })];
    await expectAppError(
      importUsers({ users: otherHash, requestId: 'import-hashes' }),
      'ALREADY_EXISTS',
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect(app.users.eventsOfType('registered')).toHaveLength(1);
  });

  it('takes 1..1000 rows', async () => {
    const { importUsers } = await setup();
    await expectAppError(importUsers({ users: [] }), 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    const hash = await foreignHashes.bcrypt(PASSWORD);
    const many = Array.from({ length: 1001 }, (_, i) =>
      row({ email: `m${i}@example.com`, passwordHash: hash }),
    );
    const error = await expectAppError(importUsers({ users: many }), 'INVALID_ARGUMENT');
    expect(error.violations.map((v) => v.field)).toEqual(['users']);
  });

  it('refuses metadata beyond its limits per row', async () => {
    const { importUsers } = await setup();
    const hash = await foreignHashes.bcrypt(PASSWORD);
    const tooMany = Object.fromEntries(
      Array.from({ length: METADATA_LIMITS.maxEntries + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    const results = await importUsers({
      users: [
        row({ passwordHash: hash, metadata: tooMany }),
        row({
          passwordHash: hash,
          metadata: { k: 'v'.repeat(METADATA_LIMITS.maxValueLength + 1) },
        }),
        row({
          passwordHash: hash,
          metadata: { ['k'.repeat(METADATA_LIMITS.maxKeyLength + 1)]: 'v' },
        }),
        row({
          passwordHash: hash,
          externalId: 'x'.repeat(METADATA_LIMITS.maxExternalIdLength + 1),
        }),
      ],
    });
    expect(results.map((r) => ('reason' in r ? r.reason : 'ok'))).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
    ]);
  });

  it('needs user.import: a player is refused', async () => {
    const { importUsers } = await setup();
    await expectAppError(
      importUsers(
        { users: [row({ passwordHash: await foreignHashes.bcrypt(PASSWORD) })] },
        aCallContext({ user: { userId: PLAYER, sessionId: 's-player' } }),
      ),
      'PERMISSION_DENIED',
    );
  });
});
