import { testSchema, type TestSchema } from '@warden/testing';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OtpauthTotp } from '../src/adapters/crypto/otpauth-totp.js';
import { RandomRecoveryCodes } from '../src/adapters/crypto/recovery-codes.js';
import { SecretBox } from '../src/adapters/crypto/secret-box.js';
import { PrismaLoginFailureStore } from '../src/adapters/prisma/prisma-login-failure-store.js';
import { PrismaTotpFactorRepository } from '../src/adapters/prisma/prisma-totp-factor-repository.js';
import { PrismaUserRepository } from '../src/adapters/prisma/prisma-user-repository.js';
import { ConfirmTotpHandler } from '../src/application/commands/confirm-totp.js';
import { EnrollTotpHandler } from '../src/application/commands/enroll-totp.js';
import { VerifySecondFactorHandler } from '../src/application/commands/verify-second-factor.js';
import { DEFAULT_PRIVILEGED_SESSION as privileged } from '../src/application/privileged-session.js';
import { DEFAULT_LOCKOUT } from '../src/domain/login-failures.js';
import { deleteUser } from '../src/domain/user.js';
import { expectAppError } from './support/expect-app-error.js';
import { FixedClock } from './support/fakes.js';
import { migrateUserSchema } from './support/database.js';
import { aCallContext, aUser, sessionServiceContext, TEST_MFA_KEY } from './support/mothers.js';

// The TOTP use cases on the Prisma adapters over the real Postgres: what lands in totp_factors,
// users.mfa_enabled and the outbox, and that replays are refused across separate transactions.
let db: TestSchema;
const clock = new FixedClock(new Date());
const box = new SecretBox(TEST_MFA_KEY);
const totp = new OtpauthTotp('warden-int');
const recoveryCodes = new RandomRecoveryCodes();

beforeAll(async () => {
  db = await testSchema('user_totp', 10);
  await migrateUserSchema(db.pool, db.schema);
});
afterAll(() => db?.drop());
beforeEach(async () => {
  await db.pool.query('TRUNCATE users, totp_factors, login_failures, outbox CASCADE');
});

function useCases() {
  const users = new PrismaUserRepository(db.pool);
  const factors = new PrismaTotpFactorRepository(db.pool, box);
  return {
    users,
    enroll: new EnrollTotpHandler({ factors, totp, clock, privileged }),
    confirm: new ConfirmTotpHandler({ factors, totp, recoveryCodes, clock, privileged }),
    verify: new VerifySecondFactorHandler({
      users,
      factors,
      totp,
      recoveryCodes,
      failures: new PrismaLoginFailureStore(db.pool),
      policy: DEFAULT_LOCKOUT,
      lockouts: { refused: () => undefined },
      clock,
    }),
  };
}

const codeAt = (secret: string, at: Date) =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at.getTime() });

async function confirmedUser() {
  const cases = useCases();
  const user = aUser();
  await cases.users.add({ user, events: [] });
  const { secret } = await cases.enroll.execute({ userId: user.id }, aCallContext());
  const codes = await cases.confirm.execute(
    { userId: user.id, code: codeAt(secret, clock.now()) },
    aCallContext(),
  );
  return { ...cases, user, secret, codes };
}

describe('TOTP factors over Postgres', () => {
  it('keeps the secret sealed and recovery codes hashed; turns users.mfa_enabled on with its event', async () => {
    const { user, secret, codes } = await confirmedUser();
    const { rows } = await db.pool.query<{
      secret_sealed: string;
      confirmed: boolean;
      recovery_code_hashes: string[];
    }>('SELECT secret_sealed, confirmed, recovery_code_hashes FROM totp_factors');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.confirmed).toBe(true);
    expect(rows[0]!.secret_sealed).not.toContain(secret);
    expect(box.open(rows[0]!.secret_sealed, user.id)).toBe(secret);
    expect(rows[0]!.recovery_code_hashes).toHaveLength(10);
    expect(JSON.stringify(rows[0])).not.toContain(codes[0]!);
    const mfa = await db.pool.query('SELECT mfa_enabled FROM users WHERE id = $1', [user.id]);
    expect(mfa.rows[0]).toEqual({ mfa_enabled: true });
    const outbox = await db.pool.query<{ type: string }>('SELECT type FROM outbox');
    expect(outbox.rows.map((r) => r.type)).toEqual(['warden.user.v1.mfa_enabled']);
  });

  it('refuses a replayed code across transactions, even when two verifications race', async () => {
    const { user, secret, verify } = await confirmedUser();
    clock.advance(30_000);
    const factor = { kind: 'TOTP' as const, code: codeAt(secret, clock.now()) };
    const results = await Promise.allSettled([
      verify.execute({ userId: user.id, factor }, sessionServiceContext()),
      verify.execute({ userId: user.id, factor }, sessionServiceContext()),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    await expectAppError(
      verify.execute({ userId: user.id, factor }, sessionServiceContext()),
      'UNAUTHENTICATED',
      'INVALID_SECOND_FACTOR',
    );
  });

  it('spends a recovery code once, and counts failures in login_failures', async () => {
    const { user, codes, verify } = await confirmedUser();
    const factor = { kind: 'RECOVERY_CODE' as const, code: codes[0]! };
    await expect(
      verify.execute({ userId: user.id, factor }, sessionServiceContext()),
    ).resolves.toEqual({ kind: 'RECOVERY_CODE', recoveryCodesLeft: 9 });
    await expectAppError(
      verify.execute({ userId: user.id, factor }, sessionServiceContext()),
      'UNAUTHENTICATED',
      'INVALID_SECOND_FACTOR',
    );
    // One failure in the email's window and one in the second factor's own.
    const { rows } = await db.pool.query(
      'SELECT email, failure_count FROM login_failures ORDER BY email',
    );
    expect(rows).toEqual([
      { email: `second-factor:${user.id}`, failure_count: 1 },
      { email: user.email, failure_count: 1 },
    ]);
  });

  it('goes with the user when the user is deleted', async () => {
    const { users, user } = await confirmedUser();
    await users.remove(user.id, (current) => deleteUser(current, clock.now()));
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM totp_factors');
    expect(rows).toEqual([{ n: 0 }]);
  });
});
