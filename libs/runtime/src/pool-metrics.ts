import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';

/** warden_db_pool_{total,in_use,idle,waiting}: read from the pool at each scrape. */
export function poolMetrics(registry: Registry, pool: pg.Pool): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('warden_db_pool_total', 'Postgres connections open in the pool', () => pool.totalCount);
  gauge(
    'warden_db_pool_in_use',
    'Postgres connections checked out',
    () => pool.totalCount - pool.idleCount,
  );
  gauge('warden_db_pool_idle', 'Postgres connections idle in the pool', () => pool.idleCount);
  gauge(
    'warden_db_pool_waiting',
    'queries waiting for a connection (the pool is exhausted while above 0)',
    () => pool.waitingCount,
  );
}
