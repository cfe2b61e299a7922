import type {
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
} from '@nats-io/jetstream';
import { isAppError, type AppError } from '@warden/errors';
import { EventSourceCheck, fromNatsMessage, STREAMS, type EventEnvelope } from '@warden/events';
import type { Logger } from '@warden/logger';
import { authzEventsV1, sessionEventsV1, userEventsV1 } from '@warden/proto';
import type {
  PositionedRevocation,
  Revocation,
  RevocationFeed,
  RevocationStream,
} from '../../application/queries/watch-revocations.js';
import {
  encodeCursor,
  FEED_STREAMS,
  type FeedPosition,
  type FeedStream,
} from '../../application/revocation-cursor.js';
import { cursorExpired, eventFeedLost } from '../../errors.js';

const STREAM_OF: Record<FeedStream, { name: string; subjects: readonly string[] }> = {
  session: STREAMS.session,
  user: STREAMS.user,
  authz: STREAMS.authz,
};

const timeOf = (occurTime: Date | undefined, event: EventEnvelope): Date => occurTime ?? event.time;

/** The revocation an event means, or undefined for events that revoke nothing (started, registered...). */
export function revocationOf(event: EventEnvelope): Revocation | undefined {
  const { type, payload } = event;
  switch (type) {
    case 'warden.session.v1.ended':
    case 'warden.session.v1.expired': {
      const e =
        type === 'warden.session.v1.ended'
          ? sessionEventsV1.SessionEnded.decode(payload)
          : sessionEventsV1.SessionExpired.decode(payload);
      const kind = type === 'warden.session.v1.ended' ? 'SESSION_ENDED' : 'SESSION_EXPIRED';
      return { kind, sessionId: e.sessionId, userId: e.userId, time: timeOf(e.occurTime, event) };
    }
    case 'warden.user.v1.disabled': {
      const e = userEventsV1.UserDisabled.decode(payload);
      return {
        kind: 'USER_DISABLED',
        sessionId: '',
        userId: e.userId,
        time: timeOf(e.occurTime, event),
      };
    }
    case 'warden.user.v1.deleted': {
      const e = userEventsV1.UserDeleted.decode(payload);
      return {
        kind: 'USER_DELETED',
        sessionId: '',
        userId: e.userId,
        time: timeOf(e.occurTime, event),
      };
    }
    case 'warden.user.v1.password_changed': {
      const e = userEventsV1.UserPasswordChanged.decode(payload);
      return {
        kind: 'PASSWORD_CHANGED',
        sessionId: e.exceptSessionId,
        userId: e.userId,
        time: timeOf(e.occurTime, event),
      };
    }
    case 'warden.authz.v1.role_assigned':
    case 'warden.authz.v1.role_revoked': {
      const e =
        type === 'warden.authz.v1.role_assigned'
          ? authzEventsV1.RoleAssigned.decode(payload)
          : authzEventsV1.RoleRevoked.decode(payload);
      return {
        kind: 'ROLES_CHANGED',
        sessionId: '',
        userId: e.subjectId,
        time: timeOf(e.occurTime, event),
      };
    }
    default:
      return undefined;
  }
}

interface Entry {
  stream: FeedStream;
  seq: number;
  revocation: Revocation | undefined;
}

/**
 * One caller's feed: an ordered consumer per stream from its position on, merged in arrival order.
 * Each stream's order is kept, so the position after an item (its cursor) resumes with nothing
 * missed and nothing twice. Reading ahead stops at `capacity` entries: a slow caller pauses its
 * consumers (JetStream keeps the rest) instead of growing a buffer.
 */
class MergedRevocations implements RevocationStream {
  private readonly queue: Entry[] = [];
  private readonly position: FeedPosition;
  private readonly expected: FeedPosition;
  private waiter: (() => void) | undefined;
  private readonly roomWaiters: Array<() => void> = [];
  private failure: AppError | undefined;
  private closed = false;
  private rejectFailed!: (error: AppError) => void;
  readonly failed: Promise<never>;
  readonly start: string;

  constructor(
    start: FeedPosition,
    private readonly consumers: ReadonlyArray<{ stream: FeedStream; messages: ConsumerMessages }>,
    private readonly capacity: number,
    private readonly logger: Logger,
    private readonly onClose: (stream: MergedRevocations) => void,
  ) {
    this.position = { ...start };
    this.start = encodeCursor(start);
    this.expected = { session: start.session + 1, user: start.user + 1, authz: start.authz + 1 };
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
    for (const { stream, messages } of consumers) void this.pump(stream, messages);
  }

  private async pump(stream: FeedStream, messages: ConsumerMessages): Promise<void> {
    const sources = new EventSourceCheck({
      subscription: STREAM_OF[stream].subjects[0]!,
      logger: this.logger,
    });
    try {
      for await (const msg of messages) {
        if (this.closed) return;
        // Ordered consumers deliver every sequence; a jump means the start was already gone.
        if (msg.seq !== this.expected[stream]) {
          this.fail(cursorExpired(STREAM_OF[stream].name, msg.seq));
          return;
        }
        this.expected[stream] = msg.seq + 1;
        await this.enqueue({ stream, seq: msg.seq, revocation: this.decode(msg, sources) });
      }
      if (!this.closed) this.fail(eventFeedLost());
    } catch (err) {
      this.logger.warn({ err, stream: STREAM_OF[stream].name }, 'revocation feed consumer failed');
      this.fail(eventFeedLost());
    }
  }

  private decode(msg: JsMsg, sources: EventSourceCheck): Revocation | undefined {
    try {
      const event = fromNatsMessage(msg);
      return sources.admits(msg.subject, event) ? revocationOf(event) : undefined;
    } catch (err) {
      this.logger.warn(
        { err, subject: msg.subject, seq: msg.seq },
        'undecodable event skipped by the revocation feed',
      );
      return undefined;
    }
  }

  private async enqueue(entry: Entry): Promise<void> {
    while (this.queue.length >= this.capacity && !this.closed)
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    if (this.closed) return;
    this.queue.push(entry);
    this.waiter?.();
  }

  async next(signal: AbortSignal): Promise<PositionedRevocation | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      const entry = this.queue.shift();
      if (entry) {
        this.roomWaiters.shift()?.();
        this.position[entry.stream] = entry.seq;
        if (entry.revocation)
          return { cursor: encodeCursor(this.position), revocation: entry.revocation };
        continue;
      }
      if (this.closed || signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiter = undefined;
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiter = wake;
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  fail(error: AppError): void {
    if (this.closed) return;
    this.failure = error;
    this.rejectFailed(error);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    for (const wake of this.roomWaiters.splice(0)) wake();
    this.waiter?.();
    // The ordered consumers are ephemeral: the server drops them once nobody pulls.
    for (const { messages } of this.consumers) messages.stop();
    this.onClose(this);
  }
}

/**
 * WatchRevocations over JetStream: the session, user and authz streams read from a position, so
 * every replica serves the same feed and a cursor from one resumes on another.
 */
export class JetStreamRevocationFeed implements RevocationFeed {
  private readonly open_ = new Set<MergedRevocations>();

  constructor(
    private readonly nats: { js: JetStreamClient; jsm: JetStreamManager },
    private readonly options: { capacity: number; logger: Logger },
  ) {}

  async open(after: FeedPosition | undefined): Promise<RevocationStream> {
    try {
      return await this.openFrom(after);
    } catch (error) {
      if (isAppError(error)) throw error;
      this.options.logger.warn({ err: error }, 'revocation feed could not open');
      throw eventFeedLost();
    }
  }

  private async openFrom(after: FeedPosition | undefined): Promise<RevocationStream> {
    const start = { session: 0, user: 0, authz: 0 };
    for (const stream of FEED_STREAMS) {
      const { name } = STREAM_OF[stream];
      const { state } = await this.nats.jsm.streams.info(name);
      if (!after) {
        start[stream] = state.last_seq;
        continue;
      }
      // A stream recreated since (sequences restarted), or events aged out unread: a gap.
      if (after[stream] > state.last_seq || state.first_seq > after[stream] + 1)
        throw cursorExpired(name, state.first_seq);
      start[stream] = after[stream];
    }
    const consumers: Array<{ stream: FeedStream; messages: ConsumerMessages }> = [];
    try {
      for (const stream of FEED_STREAMS) {
        const consumer = await this.nats.js.consumers.get(STREAM_OF[stream].name, {
          opt_start_seq: start[stream] + 1,
        });
        consumers.push({
          stream,
          messages: await consumer.consume({ max_messages: this.options.capacity }),
        });
      }
    } catch (error) {
      for (const { messages } of consumers) messages.stop();
      throw error;
    }
    const merged = new MergedRevocations(
      start,
      consumers,
      this.options.capacity,
      this.options.logger,
      (s) => this.open_.delete(s),
    );
    this.open_.add(merged);
    return merged;
  }

  /** Ends every open feed with `error` (shutdown): callers resume elsewhere from their cursor. */
  failAll(error: AppError): void {
    for (const stream of [...this.open_]) stream.fail(error);
  }
}
