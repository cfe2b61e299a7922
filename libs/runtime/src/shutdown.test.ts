import { describe, expect, it, vi } from 'vitest';
import { redactUrls, Shutdown } from './shutdown.js';

describe('Shutdown', () => {
  it('runs the process steps in reverse order of registration, then the tail in order', async () => {
    const ran: string[] = [];
    const shutdown = new Shutdown();
    const step = (name: string) => async () => void ran.push(name);
    shutdown.atEnd('drain NATS', step('drain NATS'));
    shutdown.onStop('stop relay', step('stop relay'));
    shutdown.atEnd('close pool', step('close pool'));
    shutdown.onStop('stop consuming', step('stop consuming'));
    shutdown.onStop('stop serving', step('stop serving'));
    expect(await shutdown.run({ error: vi.fn() })).toBe(0);
    expect(ran).toEqual([
      'stop serving',
      'stop consuming',
      'stop relay',
      'drain NATS',
      'close pool',
    ]);
  });

  it('a failing step is logged and does not skip the rest; the exit code says so', async () => {
    const ran: string[] = [];
    const logger = { error: vi.fn() };
    const shutdown = new Shutdown();
    const failure = new Error('relay stuck');
    shutdown.atEnd('flush spans', async () => void ran.push('flush spans'));
    shutdown.onStop('stop relay', async () => {
      throw failure;
    });
    shutdown.onStop('stop serving', async () => void ran.push('stop serving'));
    expect(await shutdown.run(logger)).toBe(1);
    expect(ran).toEqual(['stop serving', 'flush spans']);
    expect(logger.error).toHaveBeenCalledWith(
      { err: failure, step: 'stop relay' },
      'shutdown step failed',
    );
  });

  it('runs each step once even when run twice', async () => {
    const step = vi.fn(async () => undefined);
    const shutdown = new Shutdown();
    shutdown.onStop('once', step);
    await shutdown.run({ error: vi.fn() });
    await shutdown.run({ error: vi.fn() });
    expect(step).toHaveBeenCalledTimes(1);
  });
});

describe('redactUrls', () => {
  it('drops the user and password of every URL, keeping host and path', () => {
    expect(
      redactUrls('postgres://app:s3cret@db:5432/warden and nats://u:p@nats:4222 refused'),
    ).toBe('postgres://db:5432/warden and nats://nats:4222 refused');
  });
});
