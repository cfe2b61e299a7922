import { AllowAllChecker, inAuditScope, type CallContext } from '@warden/bus';
import { PgIdempotencyStore } from '@warden/db';
import { PgAuditLog } from '@warden/events';
import { pgRoundTrips, testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../src/adapters/crypto/secret-box.js';
import { NO_BREACH_CHECK } from '../src/adapters/http/breached-password-client.js';
import {
  PgSignInLookup,
  PrismaLoginFailureStore,
} from '../src/adapters/prisma/prisma-login-failure-store.js';
import { PrismaOneTimeCodeStore } from '../src/adapters/prisma/prisma-one-time-code-store.js';
import { PrismaTotpFactorRepository } from '../src/adapters/prisma/prisma-totp-factor-repository.js';
import { PrismaUserDirectory } from '../src/adapters/prisma/prisma-user-directory.js';
import { PrismaUserRepository } from '../src/adapters/prisma/prisma-user-repository.js';
import { createUserApp, type UserApp } from '../src/app.js';
import { enrollTotp } from '../src/domain/totp-factor.js';
import { migrateUserSchema } from './support/database.js';
import { FakePasswordHasher } from './support/fakes.js';
import { aCallContext, sessionServiceContext, TEST_MFA_KEY } from './support/mothers.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c'; // aCallContext's traceparent
const ADMIN = '0190a000-0000-7000-8000-0000000000ad';
const PASSWORD = 'audit password 1';

let db: TestSchema;
let app: UserApp;
let totp: PrismaTotpFactorRepository;

beforeAll(async () => {
  db = await testSchema('user_audit');
  await migrateUserSchema(db.pool, db.schema);
  totp = new PrismaTotpFactorRepository(db.pool, new SecretBox(TEST_MFA_KEY));
  app = createUserApp({
    users: new PrismaUserRepository(db.pool),
    directory: new PrismaUserDirectory(db.pool),
    loginFailures: new PrismaLoginFailureStore(db.pool),
    signIns: new PgSignInLookup(db.pool),
    idempotencyStore: new PgIdempotencyStore(db.pool),
    hasher: new FakePasswordHasher(),
    breaches: NO_BREACH_CHECK,
    authorizer: new AllowAllChecker(),
    codeStore: new PrismaOneTimeCodeStore(db.pool),
    totpFactors: totp,
    notifierServices: ['gateway'],
    auditLog: new PgAuditLog(db.pool),
  });
});

afterAll(() => db?.drop());

const asAdmin = (): CallContext =>
  aCallContext({ user: { userId: ADMIN, sessionId: 's-admin', assuranceLevel: 'AAL2' } });
const register = (email: string, requestId = '') =>
  app.bus.run(
    app.useCases.registerUser,
    { email, password: PASSWORD, displayName: 'Audit Person', requestId },
    aCallContext(),
  );
const trailOf = async (targetId: string) =>
  (
    await app.bus.run(
      app.useCases.listAuditEvents,
      { filter: { actorId: '', targetId, action: '' }, pageSize: 0, pageToken: '' },
      asAdmin(),
    )
  ).auditEvents;
const rawRows = async () =>
  JSON.stringify((await db.pool.query('SELECT * FROM audit_events')).rows);

describe('user-service audit trail (Postgres)', () => {
  it('records a registration with its actor, request_id, trace and event, and never the email', async () => {
    const user = await register('audit-reg@example.com', 'audit-req-1');
    const [entry] = await trailOf(user.id);
    expect(entry).toMatchObject({
      actor: { type: 'SERVICE', id: 'gateway', viaService: '' },
      action: 'user.registered',
      target: { type: 'user', id: user.id },
      requestId: 'audit-req-1',
      traceId: TRACE,
    });
    const { rows } = await db.pool.query('SELECT id FROM outbox WHERE id = $1', [entry!.eventId]);
    expect(rows).toHaveLength(1);
    expect(await rawRows()).not.toContain('audit-reg@example.com');
  });

  it('records nothing for a change that fails: a taken email', async () => {
    await register('audit-taken@example.com');
    const before = (await db.pool.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n;
    await expect(register('audit-taken@example.com')).rejects.toMatchObject({
      reason: 'EMAIL_TAKEN',
    });
    const after = (await db.pool.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n;
    expect(after).toBe(before);
  });

  it('records an admin by user id through the gateway, with the reason given', async () => {
    const user = await register('audit-disable@example.com');
    await app.bus.run(
      app.useCases.disableUser,
      { userId: user.id, reason: 'chargeback from Audit Person' },
      asAdmin(),
    );
    const [entry] = await trailOf(user.id);
    expect(entry).toMatchObject({
      actor: { type: 'USER', id: ADMIN, viaService: 'gateway' },
      action: 'user.disabled',
      reason: 'chargeback from Audit Person',
    });
  });

  it('records a code issued by email for a known user only, never the code', async () => {
    const user = await register('audit-reset@example.com');
    const reset = (email: string) =>
      app.bus.run(app.useCases.requestPasswordReset, { email }, aCallContext());
    const issued = await reset('audit-reset@example.com');
    await reset('nobody-audit@example.com');
    const codes = (await trailOf('')).filter((e) => e.action === 'user.code_issued');
    expect(codes).toHaveLength(1);
    expect(codes[0]).toMatchObject({
      target: { type: 'user', id: user.id },
      details: { purpose: 'PASSWORD_RESET' },
    });
    expect(issued.code).not.toBe('');
    expect(await rawRows()).not.toContain(issued.code);
  });

  it('records a TOTP enrolment started, which publishes no event, never its secret', async () => {
    const user = await register('audit-totp@example.com');
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await inAuditScope(
      { actor: { type: 'USER', id: user.id, viaService: 'gateway' }, requestId: '' },
      () =>
        totp.update(user.id, (holder, current) => enrollTotp(holder, current, secret, new Date())),
    );
    const [entry] = await trailOf(user.id);
    expect(entry).toMatchObject({
      action: 'user.totp_enrollment_started',
      actor: { type: 'USER', id: user.id },
      eventId: '',
    });
    expect(await rawRows()).not.toContain(secret);
  });

  it('keeps a deleted user’s entries by id, with the reasons written about them blanked', async () => {
    const user = await register('audit-erased@example.com');
    await app.bus.run(
      app.useCases.disableUser,
      { userId: user.id, reason: 'Audit Person asked' },
      asAdmin(),
    );
    await app.bus.run(app.useCases.deleteUser, { userId: user.id }, asAdmin());
    const trail = await trailOf(user.id);
    expect(trail.map((e) => e.action)).toEqual([
      'user.deleted',
      'user.disabled',
      'user.registered',
    ]);
    expect(trail.every((e) => e.reason === '')).toBe(true);
    expect(await rawRows()).not.toContain('audit-erased@example.com');
  });
});

describe('VerifyCredentials round trips to Postgres', () => {
  it('takes the slot and reads the account in one statement, then clears the slot', async () => {
    await register('round-trips@example.com');
    const sent = await pgRoundTrips(async () => {
      const verified = await app.bus.run(
        app.useCases.verifyCredentials,
        { email: 'Round-Trips@example.com', password: PASSWORD },
        sessionServiceContext(),
      );
      expect(verified.status).toBe('ACTIVE');
    });
    expect(sent.map((text) => text.trim().split(/\s+/)[0])).toEqual(['WITH', 'DELETE']);
  });
});

describe('a change of a user: round trips to Postgres', () => {
  it('sends the outbox and audit rows with the COMMIT', async () => {
    const user = await register('round-trips-disable@example.com');
    const sent = await pgRoundTrips(() =>
      app.bus.run(app.useCases.disableUser, { userId: user.id, reason: 'round trips' }, asAdmin()),
    );
    // BEGIN; the user's row, locked; the change; its event and audit entry, with the COMMIT.
    expect(sent.map((text) => text.trim().split(/\s+/)[0])).toEqual([
      'BEGIN',
      'SELECT',
      'UPDATE',
      'WITH',
    ]);
    expect(sent.at(-1)).toMatch(/; COMMIT$/);
    const [entry] = await trailOf(user.id);
    expect(entry).toMatchObject({ action: 'user.disabled', reason: 'round trips' });
  });
});
