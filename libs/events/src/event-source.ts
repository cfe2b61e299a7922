import type { EventEnvelope } from './envelope.js';
import type { Logger } from './logger.js';

/** The service that owns each bounded context's subjects (`warden.<context>.v1.*`). */
export const CONTEXT_OWNERS: Readonly<Record<string, string>> = {
  user: 'user-service',
  session: 'session-service',
  authz: 'authz-service',
};

const CONTEXT_SUBJECT = /^warden\.([a-z]+)\.v1\./;

/** The ce-source allowed on `subject`, or undefined when the subject is no context's. */
export function ownerOf(subject: string): string | undefined {
  const context = CONTEXT_SUBJECT.exec(subject)?.[1];
  return context === undefined ? undefined : CONTEXT_OWNERS[context];
}

/** What `warden_events_rejected_total` is counted with: anything with `inc(labels)`. */
export type RejectedEventsCounter = {
  inc(labels: { subject: string; source: string; reason: string }): void;
};

/** What consumers and replica feeds count; prom-client's Counter and Gauge satisfy it. */
export interface EventMetrics {
  /** Events dropped unapplied: reason `source_not_owner` or `undecodable`. */
  rejected: RejectedEventsCounter;
  /** Messages the durable has not delivered yet, as of the last one it delivered. */
  consumerLag: { set(labels: { durable: string }, value: number): void };
  /** Deliveries of an event after its first. */
  redeliveries: { inc(labels: { durable: string }): void };
}

/** Name, help and labels of each of EventMetrics, for a process's metrics registry. */
export const EVENT_METRICS = {
  rejected: {
    name: 'warden_events_rejected_total',
    help: 'events dropped unapplied: their ce-source does not own their subject (source_not_owner), or they do not decode (undecodable)',
    labelNames: ['subject', 'source', 'reason'] as const,
  },
  consumerLag: {
    name: 'warden_consumer_lag_messages',
    help: 'messages a durable consumer has yet to deliver, as of its last delivery',
    labelNames: ['durable'] as const,
  },
  redeliveries: {
    name: 'warden_consumer_redeliveries_total',
    help: 'events delivered again after a failed or timed-out attempt',
    labelNames: ['durable'] as const,
  },
};

export type EventSourceCheckOptions = {
  /** The ce-source these events must carry; by default the owner of the subject they arrive on. */
  expectedSource?: string;
  /** Label for the metric: the subscription's subject or filter, so its values stay few. */
  subscription: string;
  logger: Logger;
  rejected?: RejectedEventsCounter;
};

const KNOWN_SOURCES = new Set(Object.values(CONTEXT_OWNERS));
const REMEMBERED = 1024;

/**
 * Drops events whose ce-source is not the service that owns their subject: the server's
 * permissions should make them impossible, so each is logged (once) and counted.
 */
export class EventSourceCheck {
  private readonly warned = new Set<string>();

  constructor(private readonly options: EventSourceCheckOptions) {
    if (options.expectedSource === undefined && ownerOf(options.subscription) === undefined)
      throw new Error(
        `no service owns ${options.subscription}: give the source its events must carry`,
      );
  }

  /** True when `event`, received on `subject`, comes from the owner of that subject. */
  admits(subject: string, event: EventEnvelope): boolean {
    const expected = ownerOf(subject) ?? this.options.expectedSource;
    if (event.source === expected) return true;
    // The claimed source is the sender's to choose: only known names become label values.
    const source = KNOWN_SOURCES.has(event.source) ? event.source : 'other';
    this.options.rejected?.inc({
      subject: this.options.subscription,
      source,
      reason: 'source_not_owner',
    });
    if (!this.warned.has(event.id)) {
      if (this.warned.size >= REMEMBERED) this.warned.clear();
      this.warned.add(event.id);
      this.options.logger.warn(
        { eventId: event.id, subject, source: event.source, expectedSource: expected },
        'event dropped: its source does not own the subject',
      );
    }
    return false;
  }
}
