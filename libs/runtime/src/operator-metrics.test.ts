import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { cacheMetrics, outboxMetrics } from './operator-metrics.js';

const valueOf = async (registry: Registry, name: string, labels: Record<string, string> = {}) => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)!;
  return metric.values.find((v) =>
    Object.entries(labels).every(([key, value]) => v.labels[key] === value),
  )?.value;
};

describe('operator metrics', () => {
  it("counts cache hits and misses from the caches' own counts at each scrape", async () => {
    const registry = new Registry();
    const session = { hits: 3, misses: 1 };
    const authz = { hits: 0, misses: 2 };
    cacheMetrics(registry, { session, authz });
    const sessionHits = () =>
      valueOf(registry, 'warden_cache_requests_total', { cache: 'session', result: 'hit' });
    expect(await sessionHits()).toBe(3);
    expect(
      await valueOf(registry, 'warden_cache_requests_total', { cache: 'authz', result: 'miss' }),
    ).toBe(2);
    session.hits = 10;
    expect(await sessionHits()).toBe(10);
    // Neither counts evictions: no eviction counter at all.
    expect((await registry.metrics()).includes('warden_cache_evictions_total')).toBe(false);
  });

  it('counts evictions of the caches that report them', async () => {
    const registry = new Registry();
    const subjects = { hits: 5, misses: 4, evictions: 2 };
    cacheMetrics(registry, { session: { hits: 1, misses: 1 }, authz_subjects: subjects });
    const evictions = () =>
      valueOf(registry, 'warden_cache_evictions_total', { cache: 'authz_subjects' });
    expect(await evictions()).toBe(2);
    subjects.evictions = 7;
    expect(await evictions()).toBe(7);
    expect(
      await valueOf(registry, 'warden_cache_evictions_total', { cache: 'session' }),
    ).toBeUndefined();
  });

  it('reads the outbox backlog once per scrape for both gauges', async () => {
    const registry = new Registry();
    let reads = 0;
    outboxMetrics(registry, async () => {
      reads++;
      return { rows: 42, oldestSeconds: 75.5 };
    });
    const text = await registry.metrics();
    expect(text).toContain('warden_outbox_backlog_rows 42');
    expect(text).toContain('warden_outbox_oldest_unpublished_seconds 75.5');
    expect(reads).toBe(1);
  });
});
