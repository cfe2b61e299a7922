import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
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

/** What an event is about and when it happened, and the trace it continues. */
export type EventAbout = { subjectId: string; time: Date; traceparent?: string };

/**
 * The envelope maker of one service's events: `event` is the name after `subjectPrefix`
 * (`warden.user.v1.` + `registered`), which is both the ce-type and the NATS subject.
 */
export function envelopeFor(service: {
  source: string;
  subjectPrefix: string;
}): (event: string, payload: Uint8Array, about: EventAbout) => EventEnvelope {
  return (event, payload, { subjectId, time, traceparent }) =>
    newEvent({
      type: service.subjectPrefix + event,
      source: service.source,
      payload,
      subjectId,
      time,
      ...(traceparent ? { traceparent } : {}),
    });
}

export const CONTENT_TYPE = 'application/protobuf';
export const SPEC_VERSION = '1.0';
export const MSG_ID_HEADER = 'Nats-Msg-Id';

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
  return {
    id,
    type,
    source,
    time,
    payload: msg.data,
    ...(traceparent === '' ? {} : { traceparent }),
    ...(subjectId === '' ? {} : { subjectId }),
  };
}
