import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, RPC_DURATION_BUCKETS, RpcDurations } from '../src/metrics.js';

/** The same observations into prom-client's Histogram and into RpcDurations, each on its own registry. */
function both() {
  const theirs = new Registry();
  const ours = new Registry();
  for (const registry of [theirs, ours]) registry.setDefaultLabels({ service: 'svc' });
  const histogram = new Histogram({
    name: 'warden_rpc_duration_seconds',
    help: 'gRPC handling time by method and status code',
    labelNames: ['method', 'code'],
    buckets: [...RPC_DURATION_BUCKETS],
    registers: [theirs],
  });
  const durations = new RpcDurations(
    'warden_rpc_duration_seconds',
    'gRPC handling time by method and status code',
    RPC_DURATION_BUCKETS,
  );
  ours.registerMetric(durations as unknown as Histogram);
  const observe = (method: string, code: string, seconds: number) => {
    histogram.labels({ method, code }).observe(seconds);
    durations.labels({ method, code }).observe(seconds);
  };
  return { theirs, ours, observe, histogram, durations };
}

describe('RpcDurations', () => {
  it("exports what prom-client's Histogram exports for the same observations, as text and JSON", async () => {
    const { theirs, ours, observe } = both();
    const seconds = [0.0001, 0.0005, 0.0007, 0.001, 0.003, 0.02, 0.3, 1, 2.5, 2.6, 40];
    for (const [i, value] of seconds.entries()) {
      observe('/warden.authz.v1.AuthzService/CheckPermission', 'OK', value);
      if (i % 3 === 0) observe('/warden.authz.v1.AuthzService/CheckPermission', 'NOT_FOUND', value);
      if (i % 4 === 0) observe('/warden.session.v1.SessionService/StartSession', 'OK', value * 2);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    // OpenMetrics text too, as a registry of that content type formats it.
    const open = (registry: Registry) => {
      const openMetrics = Registry.merge([registry]) as unknown as Registry<
        typeof Registry.OPENMETRICS_CONTENT_TYPE
      >;
      openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      return openMetrics.metrics();
    };
    expect(await open(ours)).toBe(await open(theirs));
  });

  it('exports nothing before an observation, and after a reset until the next one', async () => {
    const { theirs, ours, observe, histogram, durations } = both();
    durations.labels({ method: '/a/B', code: 'OK' });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const kept = durations.labels({ method: '/a/B', code: 'OK' });
    observe('/a/B', 'OK', 0.002);
    histogram.reset();
    ours.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // A series the kit holds keeps counting after the reset.
    kept.observe(0.004);
    histogram.labels({ method: '/a/B', code: 'OK' }).observe(0.004);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const { durations } = both();
    expect(() => durations.labels({ method: '/a/B', code: 'OK' }).observe(Number.NaN)).toThrow(
      TypeError,
    );
  });

  it('is the rpc duration metric of createMetrics, on its registry', async () => {
    const { registry, rpcDuration } = createMetrics('svc');
    rpcDuration.labels({ method: '/a/B', code: 'OK' }).observe(0.003);
    expect(await registry.metrics()).toContain(
      'warden_rpc_duration_seconds_bucket{le="0.005",service="svc",method="/a/B",code="OK"} 1',
    );
  });
});
