import { EVENT_METRICS, type EventMetrics } from '@warden/events';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The process's EventMetrics (see EVENT_METRICS), for its durable consumers and replica feeds.
 * Asking twice of one registry gives the same metrics.
 */
export function eventMetrics(registry: Registry): EventMetrics {
  const { rejected, consumerLag, redeliveries } = EVENT_METRICS;
  const existing = (name: string) => registry.getSingleMetric(name);
  return {
    rejected: (existing(rejected.name) ??
      new Counter({
        ...rejected,
        labelNames: [...rejected.labelNames],
        registers: [registry],
      })) as EventMetrics['rejected'],
    consumerLag: (existing(consumerLag.name) ??
      new Gauge({
        ...consumerLag,
        labelNames: [...consumerLag.labelNames],
        registers: [registry],
      })) as EventMetrics['consumerLag'],
    redeliveries: (existing(redeliveries.name) ??
      new Counter({
        ...redeliveries,
        labelNames: [...redeliveries.labelNames],
        registers: [registry],
      })) as EventMetrics['redeliveries'],
  };
}
