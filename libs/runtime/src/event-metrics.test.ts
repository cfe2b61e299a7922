import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { eventMetrics } from './event-metrics.js';

describe('eventMetrics', () => {
  it('registers the dropped-event, lag and redelivery metrics once per registry', async () => {
    const registry = new Registry();
    const metrics = eventMetrics(registry);
    metrics.rejected.inc({ subject: 'warden.user.v1.>', source: 'other', reason: 'undecodable' });
    metrics.consumerLag.set({ durable: 'sessions_on_user_events' }, 7);
    metrics.redeliveries.inc({ durable: 'sessions_on_user_events' });
    eventMetrics(registry).redeliveries.inc({ durable: 'sessions_on_user_events' });

    const text = await registry.metrics();
    expect(text).toContain(
      'warden_events_rejected_total{subject="warden.user.v1.>",source="other",reason="undecodable"} 1',
    );
    expect(text).toContain('warden_consumer_lag_messages{durable="sessions_on_user_events"} 7');
    expect(text).toContain(
      'warden_consumer_redeliveries_total{durable="sessions_on_user_events"} 2',
    );
  });
});
