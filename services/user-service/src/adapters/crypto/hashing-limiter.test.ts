import { AppError } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import {
  aCallContext,
  aRegisterUserCommand,
  aUser,
  CORRECT_PASSWORD,
  sessionServiceContext,
} from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aTestApp } from '../../../test/support/test-app.js';
import { QueueingHashingLimiter, threadPoolSize } from './hashing-limiter.js';

/** Work the test finishes by hand, so what runs at once is observable without timing. */
function heldWork() {
  const started: number[] = [];
  const finishers = new Map<number, (value: number) => void>();
  const work = (n: number) => () =>
    new Promise<number>((resolve) => {
      started.push(n);
      finishers.set(n, resolve);
    });
  const finish = (n: number) => finishers.get(n)!(n);
  return { started, work, finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('QueueingHashingLimiter', () => {
  it('runs at most max_concurrent at once and starts the queued ones in arrival order', async () => {
    const limiter = new QueueingHashingLimiter({ maxConcurrent: 2, maxQueue: 10 });
    const { started, work, finish } = heldWork();
    const results = [1, 2, 3, 4].map((n) => limiter.run(work(n)));
    await settle();
    expect(started).toEqual([1, 2]);
    expect([limiter.running, limiter.queued]).toEqual([2, 2]);
    finish(2);
    await settle();
    expect(started).toEqual([1, 2, 3]);
    finish(1);
    finish(3);
    await settle();
    expect(started).toEqual([1, 2, 3, 4]);
    finish(4);
    await expect(Promise.all(results)).resolves.toEqual([1, 2, 3, 4]);
    expect([limiter.running, limiter.queued]).toEqual([0, 0]);
  });

  it('refuses past the queue with RESOURCE_EXHAUSTED and a retry delay, without starting the work', async () => {
    let refusals = 0;
    const limiter = new QueueingHashingLimiter({
      maxConcurrent: 1,
      maxQueue: 1,
      retryAfterMs: 500,
      onRefused: () => refusals++,
    });
    const { started, work, finish } = heldWork();
    const running = limiter.run(work(1));
    const queued = limiter.run(work(2));
    let ran = false;
    const refused = limiter.run(async () => {
      ran = true;
      return 3;
    });
    await expect(refused).rejects.toBeInstanceOf(AppError);
    await expect(refused).rejects.toMatchObject({
      kind: 'RESOURCE_EXHAUSTED',
      reason: 'PASSWORD_CHECKS_BUSY',
      retryAfterMs: 500,
    });
    expect(ran).toBe(false);
    expect(refusals).toBe(1);
    finish(1);
    await settle();
    finish(2);
    await expect(Promise.all([running, queued])).resolves.toEqual([1, 2]);
    expect(started).toEqual([1, 2]);
  });

  it('gives the turn back when the work fails', async () => {
    const limiter = new QueueingHashingLimiter({ maxConcurrent: 1, maxQueue: 0 });
    await expect(
      limiter.run(() => Promise.reject(new Error('argon2 could not allocate'))),
    ).rejects.toThrow('argon2 could not allocate');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
    expect(limiter.running).toBe(0);
  });

  it('defaults to twice the libuv thread pool, and refuses nonsense limits', () => {
    expect(new QueueingHashingLimiter({ maxConcurrent: 0, maxQueue: 1 }).capacity).toBe(
      2 * threadPoolSize(),
    );
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '16' })).toBe(16);
    expect(threadPoolSize({})).toBe(4);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: 'lots' })).toBe(4);
    expect(() => new QueueingHashingLimiter({ maxConcurrent: 1, maxQueue: -1 })).toThrow(
      /max_queue/,
    );
    expect(() => new QueueingHashingLimiter({ maxConcurrent: 1.5, maxQueue: 1 })).toThrow(
      /whole numbers/,
    );
  });
});

describe('password checks at capacity', () => {
  async function saturated() {
    const hashingLimiter = new QueueingHashingLimiter({ maxConcurrent: 1, maxQueue: 0 });
    const app = aTestApp({ hashingLimiter });
    let release!: () => void;
    const holding = hashingLimiter.run(() => new Promise<void>((resolve) => (release = resolve)));
    await settle();
    return { app, release: async () => (release(), await holding) };
  }

  it('VerifyCredentials answers PASSWORD_CHECKS_BUSY with no argon2 run and no failure counted', async () => {
    const { app, release } = await saturated();
    const user = aUser();
    await app.given(user);
    const verify = (password: string) =>
      app.bus.run(
        app.useCases.verifyCredentials,
        { email: user.email, password },
        sessionServiceContext(),
      );
    for (let i = 0; i < 10; i++) {
      const error = await expectAppError(
        verify('wrong password'),
        'RESOURCE_EXHAUSTED',
        'PASSWORD_CHECKS_BUSY',
      );
      expect(error.retryAfterMs).toBe(1_000);
    }
    expect(app.hasher.verifications).toBe(0);
    expect(await app.loginFailures.get(user.email)).toBeUndefined();
    await release();
    await expect(verify(CORRECT_PASSWORD)).resolves.toMatchObject({ userId: user.id });
  });

  it('RegisterUser answers PASSWORD_CHECKS_BUSY without storing a user, and registers once there is room', async () => {
    const { app, release } = await saturated();
    const cmd = aRegisterUserCommand();
    await expectAppError(
      app.bus.run(app.useCases.registerUser, cmd, aCallContext()),
      'RESOURCE_EXHAUSTED',
      'PASSWORD_CHECKS_BUSY',
    );
    expect(app.users.eventsOfType('registered')).toHaveLength(0);
    await release();
    const user = await app.bus.run(app.useCases.registerUser, cmd, aCallContext());
    expect(app.users.eventsOfType('registered')).toEqual([
      expect.objectContaining({ userId: user.id }),
    ]);
  });
});
