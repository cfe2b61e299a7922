import type { OutboxBacklog } from '@warden/events';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Lookups answered from a cache, and the rest: plain counts the cache keeps on its hot path. */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
}

/** warden_cache_requests_total{cache,result=hit|miss}: read from each cache's counts at each scrape. */
export function cacheMetrics(
  registry: Registry,
  caches: Readonly<Record<string, CacheStats>>,
): void {
  new Counter({
    name: 'warden_cache_requests_total',
    help: 'cache lookups by cache and result (hit ratio: hit / (hit + miss))',
    labelNames: ['cache', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cache, stats] of Object.entries(caches)) {
        this.inc({ cache, result: 'hit' }, stats.hits);
        this.inc({ cache, result: 'miss' }, stats.misses);
      }
    },
  });
}

/**
 * warden_outbox_backlog_rows and warden_outbox_oldest_unpublished_seconds: one read of the outbox
 * per scrape, shared by both gauges.
 */
export function outboxMetrics(registry: Registry, read: () => Promise<OutboxBacklog>): void {
  let last: { at: number; backlog: Promise<OutboxBacklog> } | undefined;
  const backlog = () => {
    const now = Date.now();
    if (!last || now - last.at > 1_000) last = { at: now, backlog: read() };
    return last.backlog;
  };
  new Gauge({
    name: 'warden_outbox_backlog_rows',
    help: 'outbox rows not yet published to NATS',
    registers: [registry],
    async collect() {
      this.set((await backlog()).rows);
    },
  });
  new Gauge({
    name: 'warden_outbox_oldest_unpublished_seconds',
    help: 'age of the oldest outbox row not yet published (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await backlog()).oldestSeconds);
    },
  });
}
