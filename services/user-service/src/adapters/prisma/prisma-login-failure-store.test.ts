import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PrismaLoginFailureStore } from './prisma-login-failure-store.js';

describe('PrismaLoginFailureStore.takeSlot', () => {
  it('retries when a full row vanishes before its lock time is read, and gives up after three', async () => {
    const statements: string[] = [];
    // Every upsert finds the window full, every read finds the row already cleared.
    const pool = {
      query: async (query: { name?: string; text: string }) => {
        statements.push(query.name ?? query.text);
        return { rows: [] };
      },
    } as unknown as pg.Pool;
    const store = new PrismaLoginFailureStore(pool);
    await expect(
      store.takeSlot('a@example.com', new Date(), { maxFailures: 5, windowMs: 60_000 }),
    ).rejects.toThrow('login failures of one email are being taken and cleared concurrently');
    expect(statements).toEqual(
      Array(3).fill(['warden-login-failures-take-slot', 'warden-login-failures-get']).flat(),
    );
  });
});
