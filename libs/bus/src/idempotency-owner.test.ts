import { describe, expect, it } from 'vitest';
import { Idempotency } from './idempotency.js';
import { MemoryIdempotencyStore } from './memory-idempotency-store.js';
import type { IdempotencySpec } from './use-case.js';

type Input = { requestId: string; email: string };
type Output = { userId: string; email: string };

const spec = (owner?: IdempotencySpec<Input, Output>['owner']): IdempotencySpec<Input, Output> => ({
  key: (input) => input.requestId,
  fingerprint: (input) => input.email,
  encode: (output) => Buffer.from(JSON.stringify(output)),
  decode: (bytes) => JSON.parse(Buffer.from(bytes).toString()) as Output,
  ...(owner ? { owner } : {}),
});
const ctx = { service: { name: 'gateway' }, requestId: 'r' };

describe('Idempotency owner', () => {
  it("stores the spec's owner with the response, and forgetting the owner forgets the record", async () => {
    const store = new MemoryIdempotencyStore();
    const idempotency = new Idempotency(store);
    const withOwner = spec((_input, output) => output.userId);
    const input = { requestId: 'k1', email: 'ada@example.com' };
    let runs = 0;
    const execute = async () => ({ userId: `u${++runs}`, email: input.email });
    await idempotency.run('RegisterUser', withOwner, input, ctx, execute);
    expect([...store.owners.values()]).toEqual(['u1']);
    expect(await store.forgetOwner('u1')).toBe(1);
    expect(store.records.size).toBe(0);
    // The record is gone: the same request id runs again instead of replaying erased data.
    expect(await idempotency.run('RegisterUser', withOwner, input, ctx, execute)).toEqual({
      userId: 'u2',
      email: 'ada@example.com',
    });
  });

  it('stores no owner when the spec names none', async () => {
    const store = new MemoryIdempotencyStore();
    const input = { requestId: 'k1', email: 'a@b.c' };
    await new Idempotency(store).run('Op', spec(), input, ctx, async () => ({
      userId: 'u1',
      email: input.email,
    }));
    expect(store.records.size).toBe(1);
    expect(store.owners.size).toBe(0);
    expect(await store.forgetOwner('u1')).toBe(0);
  });
});
