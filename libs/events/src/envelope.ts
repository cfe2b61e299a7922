import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import {
  actorHeader,
  auditEntry,
  type AuditContext,
  type AuditEntry,
  type AuditFacts,
} from './audit.js';
import { isUuid, uuidv7 } from './uuid.js';

/** One domain event in CloudEvents binary mode: metadata in headers, protobuf bytes as body. */
export type EventEnvelope = {
  /** UUIDv7; also the NATS `Nats-Msg-Id`, so JetStream drops republished copies. */
  id: string;
  /** Equals the NATS subject, e.g. `warden.user.v1.registered`. */
  type: string;
  source: string;
  time: Date;
  payload: Uint8Array;
  traceparent?: string;
  /** CloudEvents `subject`: the entity the event is about, e.g. the user id. */
  subjectId?: string;
  /** Who caused it, extension `wardenactor`: `user:<id>`, `service:<name>` or `system`. */
  actor?: string;
  /** The request_id (idempotency key) of the call that caused it, extension `wardenrequestid`. */
  requestId?: string;
  /** The audit entry written with the outbox row (never published). */
  audit?: AuditEntry;
};

export type NewEvent = {
  type: string;
  source: string;
  payload: Uint8Array;
  traceparent?: string;
  subjectId?: string;
  time?: Date;
};

export function newEvent(input: NewEvent): EventEnvelope {
  return {
    id: uuidv7(),
    type: input.type,
    source: input.source,
    time: input.time ?? new Date(),
    payload: input.payload,
    ...(input.traceparent === undefined ? {} : { traceparent: input.traceparent }),
    ...(input.subjectId === undefined ? {} : { subjectId: input.subjectId }),
  };
}

/**
 * What an event is about and when it happened, the trace it continues, and what the audit trail
 * records for it.
 */
export type EventAbout = {
  subjectId: string;
  time: Date;
  traceparent?: string | undefined;
  audit?: AuditFacts;
};

/**
 * The envelope maker of one service's events: `event` is the name after `subjectPrefix`
 * (`warden.user.v1.` + `registered`), which is both the ce-type and the NATS subject. With
 * `context` (the call's actor and request, read when the event is made), events carry
 * `ce-wardenactor` and `ce-wardenrequestid`; those with `about.audit` carry their audit entry
 * (a system one without `context`).
 */
export function envelopeFor(service: {
  source: string;
  subjectPrefix: string;
  context?: () => AuditContext;
}): (event: string, payload: Uint8Array, about: EventAbout) => EventEnvelope {
  return (event, payload, { subjectId, time, traceparent, audit }) => {
    const context = service.context?.();
    const trace = traceparent || context?.traceparent;
    const env = newEvent({
      type: service.subjectPrefix + event,
      source: service.source,
      payload,
      subjectId,
      time,
      ...(trace ? { traceparent: trace } : {}),
    });
    if (context) {
      env.actor = actorHeader(context.actor);
      if (context.requestId) env.requestId = context.requestId;
    }
    if (audit) env.audit = auditEntry(audit, context, { eventId: env.id, traceparent: trace });
    return env;
  };
}

export const CONTENT_TYPE = 'application/protobuf';
export const SPEC_VERSION = '1.0';
export const MSG_ID_HEADER = 'Nats-Msg-Id';
/** CloudEvents extension attributes of warden events (binary mode: `ce-<name>`). */
export const ACTOR_HEADER = 'ce-wardenactor';
export const REQUEST_ID_HEADER = 'ce-wardenrequestid';

/** The CloudEvents headers of an event; this is what the outbox stores in `headers`. */
export function cloudEventHeaders(env: EventEnvelope): Record<string, string> {
  const h: Record<string, string> = {
    'ce-specversion': SPEC_VERSION,
    'ce-id': env.id,
    'ce-type': env.type,
    'ce-source': env.source,
    'ce-time': env.time.toISOString(),
    'content-type': CONTENT_TYPE,
  };
  if (env.subjectId !== undefined) h['ce-subject'] = env.subjectId;
  if (env.traceparent !== undefined) h.traceparent = env.traceparent;
  if (env.actor !== undefined) h[ACTOR_HEADER] = env.actor;
  if (env.requestId !== undefined) h[REQUEST_ID_HEADER] = env.requestId;
  return h;
}

export function toNatsHeaders(env: EventEnvelope): MsgHdrs {
  const h = recordToNatsHeaders(cloudEventHeaders(env));
  h.set(MSG_ID_HEADER, env.id);
  return h;
}

export function recordToNatsHeaders(record: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [key, value] of Object.entries(record)) h.set(key, value);
  return h;
}

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/** What `fromNatsMessage` needs: both core `Msg` and JetStream `JsMsg` fit. */
export type NatsEventMessage = {
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs | undefined;
};

/** Parses a CloudEvents binary-mode message; throws InvalidEventError naming what is wrong. */
export function fromNatsMessage(msg: NatsEventMessage): EventEnvelope {
  const h = msg.headers;
  if (h === undefined) throw new InvalidEventError(`message on ${msg.subject} has no headers`);
  const required = (name: string): string => {
    const value = h.get(name);
    if (value === '') throw new InvalidEventError(`message on ${msg.subject} lacks header ${name}`);
    return value;
  };

  const id = required('ce-id');
  if (!isUuid(id))
    throw new InvalidEventError(`message on ${msg.subject} has a ce-id that is not a UUID: ${id}`);
  const specVersion = required('ce-specversion');
  if (specVersion !== SPEC_VERSION) {
    throw new InvalidEventError(`message ${id} has unsupported ce-specversion ${specVersion}`);
  }
  const type = required('ce-type');
  const source = required('ce-source');
  const timeText = required('ce-time');
  const time = new Date(timeText);
  if (Number.isNaN(time.getTime()))
    throw new InvalidEventError(`message ${id} has an invalid ce-time ${timeText}`);

  const traceparent = h.get('traceparent');
  const subjectId = h.get('ce-subject');
  const actor = h.get(ACTOR_HEADER);
  const requestId = h.get(REQUEST_ID_HEADER);
  return {
    id,
    type,
    source,
    time,
    payload: msg.data,
    ...(traceparent === '' ? {} : { traceparent }),
    ...(subjectId === '' ? {} : { subjectId }),
    ...(actor === '' ? {} : { actor }),
    ...(requestId === '' ? {} : { requestId }),
  };
}
