import type { OutboxBacklog } from '@warden/events';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Lookups answered from a cache, and the rest: plain counts the cache keeps on its hot path. */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Entries pushed out by newer ones (bounded caches that count them). */
  readonly evictions?: number;
}

/**
 * warden_cache_requests_total{cache,result=hit|miss}, and warden_cache_evictions_total{cache} for
 * the caches that count evictions: read from each cache's counts at each scrape.
 */
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
  const evicting = Object.entries(caches).filter(([, stats]) => stats.evictions !== undefined);
  if (evicting.length === 0) return;
  new Counter({
    name: 'warden_cache_evictions_total',
    help: 'entries a bounded cache pushed out to make room (a steady rate: the working set exceeds the bound)',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cache, stats] of evicting) this.inc({ cache }, stats.evictions ?? 0);
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
