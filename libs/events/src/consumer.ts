import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { backoffDelay, sleep } from './backoff.js';
import { fromNatsMessage, type EventEnvelope } from './envelope.js';
import { EventSourceCheck, type EventMetrics } from './event-source.js';
import type { Logger } from './logger.js';

export type DurableConsumerOptions = {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  /** Shared by every replica of the consuming service: they split the work. */
  durable: string;
  filterSubject: string;
  /** Throw to have the event redelivered later; make the effect idempotent (see processOnce). */
  handle: (event: EventEnvelope) => Promise<void>;
  logger: Logger;
  ackWaitMs?: number;
  /** Deliveries before an event is given up on; -1 retries for ever. */
  maxDeliver?: number;
  /** Messages pulled at a time. */
  batch?: number;
  /**
   * Events handled at once by this process. Delivery order is not kept anyway (a retried event
   * comes back after later ones), so handlers already cope with any order; overlapping their
   * database round trips is what lets one worker keep up with a burst.
   */
  concurrency?: number;
  maxRetryDelayMs?: number;
  /**
   * Where a durable that does not exist yet starts: `all` (the stream's whole retained history,
   * right for a service's first deployment) or `new` (only events published from now on).
   */
  startFrom?: 'all' | 'new';
  /** Told of every event handled, successfully or not (e.g. to record a consumer span). */
  observe?: (handled: HandledEvent) => void;
  /**
   * The ce-source every event must carry; by default the service owning the filter's context
   * (`warden.user.v1.*`: user-service). Others are dropped unhandled, logged and counted.
   */
  source?: string;
  /** Counts dropped events, the durable's lag and redeliveries. */
  metrics?: EventMetrics;
};

export type HandledEvent = {
  event: EventEnvelope;
  durable: string;
  /** Epoch milliseconds, with fractions. */
  startMs: number;
  endMs: number;
  /** What the handler threw; the event will be redelivered (or given up on). */
  error?: unknown;
};

/** A durable pull consumer: ack on success, nak with backoff on failure, term when undecodable. */
export class DurableConsumer {
  private readonly opts: Required<Omit<DurableConsumerOptions, 'source' | 'metrics'>>;
  private readonly log: Logger;
  private readonly sources: EventSourceCheck;
  private readonly metrics: EventMetrics | undefined;
  private stopping = new AbortController();
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor({ source, metrics, ...opts }: DurableConsumerOptions) {
    this.metrics = metrics;
    this.sources = new EventSourceCheck({
      subscription: opts.filterSubject,
      logger: opts.logger,
      ...(source === undefined ? {} : { expectedSource: source }),
      ...(metrics === undefined ? {} : { rejected: metrics.rejected }),
    });
    this.opts = {
      ...opts,
      ackWaitMs: opts.ackWaitMs ?? 30_000,
      maxDeliver: opts.maxDeliver ?? -1,
      batch: opts.batch ?? 64,
      concurrency: opts.concurrency ?? 16,
      maxRetryDelayMs: opts.maxRetryDelayMs ?? 60_000,
      startFrom: opts.startFrom ?? 'all',
      observe: opts.observe ?? (() => undefined),
    };
    this.log = opts.logger;
  }

  /** Creates the durable if missing (fails fast when the stream is absent), then consumes. */
  async start(): Promise<void> {
    if (this.loop) throw new Error(`consumer ${this.opts.durable} is already running`);
    this.stopping = new AbortController();
    await this.ensureConsumer();
    this.loop = this.run(this.stopping.signal);
  }

  /** Stops pulling, finishes the message in hand, then resolves; unacked messages get redelivered. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping.abort();
    await this.messages?.close();
    await this.loop;
    this.loop = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        const consumer = await this.opts.js.consumers.get(this.opts.stream, this.opts.durable);
        const messages = await consumer.consume({ max_messages: this.opts.batch });
        this.messages = messages;
        if (signal.aborted) await messages.close();
        this.watch(messages).catch((err: unknown) =>
          this.log.warn({ err }, 'consumer status watch ended'),
        );
        const inFlight = new Set<Promise<void>>();
        // Events about one subject (ce-subject, e.g. a user id) run in arrival order; others overlap.
        const lastOfSubject = new Map<string, Promise<void>>();
        try {
          for await (const msg of messages) {
            this.count(msg);
            const event = this.decode(msg);
            if (!event) continue;
            // Terminated, not retried: a forged source never becomes a real one.
            if (!this.sources.admits(msg.subject, event)) {
              msg.term();
              continue;
            }
            const key = event.subjectId ?? event.id;
            const previous = lastOfSubject.get(key);
            const handled: Promise<void> = (
              previous ? previous.then(() => this.process(msg, event)) : this.process(msg, event)
            ).finally(() => {
              inFlight.delete(handled);
              if (lastOfSubject.get(key) === handled) lastOfSubject.delete(key);
            });
            lastOfSubject.set(key, handled);
            inFlight.add(handled);
            failures = 0;
            if (inFlight.size >= this.opts.concurrency) await Promise.race(inFlight);
          }
        } finally {
          await Promise.all(inFlight);
        }
      } catch (err) {
        if (!signal.aborted)
          this.log.error({ err, durable: this.opts.durable }, 'consumer stopped; restarting');
      } finally {
        this.messages = undefined;
      }
      if (!signal.aborted) await sleep(backoffDelay(failures, 500, 30_000), signal);
    }
  }

  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found') {
        this.log.warn(
          { durable: this.opts.durable, status: status.type },
          'durable consumer missing; recreating it',
        );
        await this.ensureConsumer().catch((err: unknown) => {
          this.log.error({ err, durable: this.opts.durable }, 'cannot recreate durable consumer');
        });
      } else if (status.type === 'heartbeats_missed') {
        this.log.warn(
          { durable: this.opts.durable, count: status.count },
          'consumer missed heartbeats',
        );
      }
    }
  }

  private count(msg: JsMsg): void {
    if (!this.metrics) return;
    const labels = { durable: this.opts.durable };
    this.metrics.consumerLag.set(labels, msg.info.pending);
    if (msg.info.deliveryCount > 1) this.metrics.redeliveries.inc(labels);
  }

  /** The envelope, or undefined for an undecodable message, which is terminated: it never improves. */
  private decode(msg: JsMsg): EventEnvelope | undefined {
    try {
      return fromNatsMessage(msg);
    } catch (err) {
      this.metrics?.rejected.inc({
        subject: this.opts.filterSubject,
        source: 'unknown',
        reason: 'undecodable',
      });
      this.log.error(
        { err, subject: msg.subject, seq: msg.seq },
        'undecodable event; terminating it',
      );
      msg.term();
      return undefined;
    }
  }

  private async process(msg: JsMsg, event: EventEnvelope): Promise<void> {
    const startMs = performance.timeOrigin + performance.now();
    const observe = (error?: unknown) => {
      try {
        this.opts.observe({
          event,
          durable: this.opts.durable,
          startMs,
          endMs: performance.timeOrigin + performance.now(),
          ...(error === undefined ? {} : { error }),
        });
      } catch (hookError) {
        // Observing is a side line: it must not turn a handled event into a retried one.
        this.log.warn({ err: hookError, eventId: event.id }, 'consumer observe hook failed');
      }
    };
    try {
      await this.opts.handle(event);
      msg.ack();
      observe();
    } catch (err) {
      observe(err);
      const deliveries = msg.info.deliveryCount;
      const context = {
        err,
        eventId: event.id,
        type: event.type,
        deliveries,
        durable: this.opts.durable,
      };
      if (this.opts.maxDeliver > 0 && deliveries >= this.opts.maxDeliver) {
        this.log.error(context, 'event handling failed for the last time; giving up');
        msg.term();
        return;
      }
      const retryInMs = backoffDelay(deliveries, 1000, this.opts.maxRetryDelayMs);
      this.log.warn({ ...context, retryInMs }, 'event handling failed; will retry');
      msg.nak(retryInMs);
    }
  }

  private async ensureConsumer(): Promise<void> {
    const { jsm, stream, durable, filterSubject } = this.opts;
    const tunable = { ack_wait: nanos(this.opts.ackWaitMs), max_deliver: this.opts.maxDeliver };
    const existing = await jsm.consumers.info(stream, durable).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)
        return undefined;
      throw err;
    });

    if (existing === undefined) {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: this.opts.startFrom === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
        filter_subject: filterSubject,
        ...tunable,
      });
      this.log.info(
        { stream, durable, filterSubject, startFrom: this.opts.startFrom },
        'created durable consumer',
      );
      return;
    }
    if (existing.config.filter_subject !== filterSubject) {
      throw new Error(
        `durable consumer ${durable} on ${stream} filters ${existing.config.filter_subject ?? '(nothing)'}, not ${filterSubject}; delete it or pick another durable name`,
      );
    }
    if (
      existing.config.ack_wait !== tunable.ack_wait ||
      existing.config.max_deliver !== tunable.max_deliver
    ) {
      await jsm.consumers.update(stream, durable, tunable);
    }
  }
}
