import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DependencyMonitor, type Dependency } from './dependency-monitor.js';

/** A dependency whose next probes answer as `reachable` says (a probe may also hang). */
function fake(name: string) {
  const dependency = {
    name,
    reachable: true,
    hang: false,
    probes: 0,
    probe: () => {
      dependency.probes++;
      if (dependency.hang) return new Promise<never>(() => undefined);
      return dependency.reachable
        ? Promise.resolve()
        : Promise.reject(new Error(`${name} refused`));
    },
  };
  return dependency satisfies Dependency;
}

const logger = () => ({ info: vi.fn(), warn: vi.fn(), error: vi.fn() });

const upValue = async (registry: Registry, dependency: string) =>
  (await registry.getSingleMetric('warden_dependency_up')!.get()).values.find(
    (v) => v.labels.dependency === dependency,
  )?.value;

describe('DependencyMonitor', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const setup = (graceMs = 5_000) => {
    const postgres = fake('postgres');
    const nats = fake('nats');
    const changes: boolean[] = [];
    const log = logger();
    const registry = new Registry();
    const monitor = new DependencyMonitor({
      dependencies: [postgres, nats],
      intervalMs: 1_000,
      graceMs,
      timeoutMs: 500,
      onChange: (healthy) => changes.push(healthy),
      logger: log,
      registry,
    });
    monitor.start();
    return { postgres, nats, changes, log, registry, monitor };
  };

  it('stays healthy through an outage shorter than the grace', async () => {
    const { postgres, changes, monitor, registry } = setup();
    await vi.advanceTimersByTimeAsync(2_000);
    postgres.reachable = false;
    await vi.advanceTimersByTimeAsync(4_000); // fails for 4 s < 5 s grace
    expect(monitor.healthy).toBe(true);
    postgres.reachable = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(changes).toEqual([]);
    expect(await upValue(registry, 'postgres')).toBe(1);
    await monitor.stop();
  });

  it('turns unhealthy once a dependency has failed for the grace, logging once, and recovers at the first answer', async () => {
    const { nats, changes, monitor, log, registry } = setup();
    await vi.advanceTimersByTimeAsync(1_000);
    nats.reachable = false;
    await vi.advanceTimersByTimeAsync(5_000); // failed probes from 1 s later: 4 s of failures
    expect(monitor.healthy).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000); // 5 s of failures: the grace is over
    expect(monitor.healthy).toBe(false);
    expect(changes).toEqual([false]);
    expect(await upValue(registry, 'nats')).toBe(0);
    expect(await upValue(registry, 'postgres')).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000); // still down: no more changes, no more logs
    expect(changes).toEqual([false]);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]![0]).toMatchObject({ dependency: 'nats' });

    nats.reachable = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.healthy).toBe(true);
    expect(changes).toEqual([false, true]);
    expect(await upValue(registry, 'nats')).toBe(1);
    expect(log.info).toHaveBeenCalledTimes(1);
    await monitor.stop();
  });

  it('a flapping dependency that answers within every grace stays up', async () => {
    const { postgres, changes, monitor } = setup(3_000);
    for (let tick = 0; tick < 30; tick++) {
      postgres.reachable = tick % 3 === 2; // down 2 s, up 1 s, again and again
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(changes).toEqual([]);
    expect(monitor.healthy).toBe(true);
    await monitor.stop();
  });

  it('counts a probe that does not answer within the timeout as failed', async () => {
    const { postgres, changes, monitor } = setup(2_000);
    await vi.advanceTimersByTimeAsync(500);
    postgres.hang = true;
    await vi.advanceTimersByTimeAsync(6_000);
    expect(changes).toEqual([false]);
    postgres.hang = false;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(changes).toEqual([false, true]);
    await monitor.stop();
  });

  it('stops probing after stop', async () => {
    const { postgres, monitor } = setup();
    await vi.advanceTimersByTimeAsync(3_000);
    await monitor.stop();
    const probes = postgres.probes;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(postgres.probes).toBe(probes);
  });
});
