import { testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../src/adapters/prisma/prisma-client.js';
import { Sweeper } from '../src/adapters/prisma/sweeper.js';
import { migrateUserSchema } from './support/database.js';

const now = new Date('2026-05-01T12:00:00.000Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const MINUTE = 60_000;

let db: TestSchema;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await testSchema('user_sweep');
  await migrateUserSchema(db.pool, db.schema);
  prisma = createPrismaClient(db.pool, db.schema);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

describe('Sweeper', () => {
  it('deletes expired idempotency keys, closed login-failure windows and old published outbox rows, nothing else', async () => {
    await prisma.idempotencyKey.createMany({
      data: [
        { keyHash: 'expired', fingerprint: 'f', response: null, createTime: ago(25 * 60 * MINUTE) },
        { keyHash: 'live', fingerprint: 'f', response: null, createTime: ago(60 * MINUTE) },
      ],
    });
    await prisma.loginFailure.createMany({
      data: [
        {
          email: 'stale@example.com',
          failureCount: 5,
          windowStartTime: ago(16 * MINUTE),
          lockedUntilTime: ago(MINUTE),
        },
        {
          email: 'locked@example.com',
          failureCount: 5,
          windowStartTime: ago(5 * MINUTE),
          lockedUntilTime: ago(-10 * MINUTE),
        },
      ],
    });
    const outboxRow = (id: string, publishedTime: Date | null) => ({
      id,
      subject: 'warden.user.v1.registered',
      type: 'warden.user.v1.registered',
      payload: new Uint8Array([1]),
      headers: {},
      createTime: ago(3 * 60 * MINUTE),
      publishedTime,
    });
    await prisma.outboxEvent.createMany({
      data: [
        outboxRow('0190c7a6-0000-7000-8000-000000000001', ago(2 * 60 * MINUTE)),
        outboxRow('0190c7a6-0000-7000-8000-000000000002', ago(10 * MINUTE)),
        outboxRow('0190c7a6-0000-7000-8000-000000000003', null),
      ],
    });
    const sweeper = new Sweeper(db.pool, {
      idempotencyTtlMs: 24 * 60 * MINUTE,
      lockoutWindowMs: 15 * MINUTE,
      outboxRetentionMs: 60 * MINUTE,
    });
    const swept = await sweeper.sweepOnce(now);

    expect(swept.idempotencyKeys).toBe(1);
    expect(swept.loginFailures).toBe(1);
    expect(swept.outboxRows).toBe(1);
    expect((await prisma.idempotencyKey.findMany()).map((k) => k.keyHash)).toEqual(['live']);
    expect((await prisma.loginFailure.findMany()).map((f) => f.email)).toEqual([
      'locked@example.com',
    ]);
    const left = (await prisma.outboxEvent.findMany({ orderBy: { id: 'asc' } })).map((r) =>
      r.id.slice(-1),
    );
    expect(left).toEqual(['2', '3']);
  });

  it('deletes one-time codes past their expiry and keeps live ones', async () => {
    const user = await prisma.user.create({
      data: {
        id: '0190c7a6-0000-7000-8000-0000000000c1',
        email: 'codes@example.com',
        displayName: '',
        passwordHash: 'h',
        createTime: ago(MINUTE),
        updateTime: ago(MINUTE),
      },
    });
    const code = (purpose: string, expireTime: Date) => ({
      userId: user.id,
      purpose,
      codeHash: new Uint8Array(32),
      expireTime,
      createTime: ago(MINUTE),
    });
    await prisma.userCode.createMany({
      data: [code('PASSWORD_RESET', ago(1)), code('EMAIL_VERIFICATION', ago(-MINUTE))],
    });
    const sweeper = new Sweeper(db.pool, {
      idempotencyTtlMs: 24 * 60 * MINUTE,
      lockoutWindowMs: 15 * MINUTE,
      outboxRetentionMs: 60 * MINUTE,
    });
    expect((await sweeper.sweepOnce(now)).expiredCodes).toBe(1);
    expect((await prisma.userCode.findMany()).map((c) => c.purpose)).toEqual([
      'EMAIL_VERIFICATION',
    ]);
  });
});
