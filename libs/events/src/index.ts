export { uuidv7, isUuid } from './uuid.js';
export type { Logger } from './logger.js';
export {
  newEvent,
  envelopeFor,
  cloudEventHeaders,
  toNatsHeaders,
  recordToNatsHeaders,
  fromNatsMessage,
  InvalidEventError,
  CONTENT_TYPE,
  SPEC_VERSION,
  MSG_ID_HEADER,
  ACTOR_HEADER,
  REQUEST_ID_HEADER,
  type EventAbout,
  type EventEnvelope,
  type NewEvent,
  type NatsEventMessage,
} from './envelope.js';
export {
  OUTBOX_DDL,
  OUTBOX_CHANNEL,
  toOutboxRow,
  insertOutbox,
  insertOutboxThenCommit,
  auditEntriesOf,
  outboxColumns,
  OUTBOX_UNNEST,
  type OutboxRow,
  type Queryable,
} from './outbox-schema.js';
export {
  outboxBacklog,
  OutboxRelay,
  type BatchOutcome,
  type OutboxBacklog,
  type OutboxRelayOptions,
  type PublishedRow,
} from './outbox-relay.js';
export {
  STREAMS,
  STREAM_DEFAULTS,
  ensureStream,
  connectNats,
  checkNatsCredentials,
  natsConnectOptions,
  inboxPrefixOf,
  awaitStream,
  provisionStreams,
  type NatsSettings,
  type StreamSpec,
  type EnsureStreamOptions,
  type NatsClients,
} from './streams.js';
export {
  CONTEXT_OWNERS,
  EVENT_METRICS,
  EventSourceCheck,
  ownerOf,
  type EventMetrics,
  type EventSourceCheckOptions,
  type RejectedEventsCounter,
} from './event-source.js';
export { DurableConsumer, type DurableConsumerOptions, type HandledEvent } from './consumer.js';
export { processOnce, pgInbox, type InboxStore, type ProcessOnceOptions } from './inbox.js';
export {
  followReplicaEvents,
  type FollowerOptions,
  type GapReason,
  type ReplicaFeed,
  type ReplicaFeedOptions,
  type ReplicaHandlers,
  type ReplicaSubject,
} from './replica-feed.js';
export { prunePublishedOutbox, pruneProcessedEvents } from './retention.js';
export {
  AUDIT_COLUMNS,
  AUDIT_DDL,
  AUDIT_INSERT,
  SYSTEM_ACTOR,
  SYSTEM_CONTEXT,
  actorHeader,
  auditColumns,
  auditEntry,
  traceIdOf,
  type AuditActor,
  type AuditContext,
  type AuditEntry,
  type AuditFacts,
} from './audit.js';
export { PgAuditLog, pruneAuditEvents, type AuditQuery } from './audit-log.js';
