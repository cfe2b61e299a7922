import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import {
  envelopeFor,
  fromNatsMessage,
  InvalidEventError,
  newEvent,
  toNatsHeaders,
  type EventEnvelope,
} from './envelope.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function anEnvelope(overrides: Partial<Parameters<typeof newEvent>[0]> = {}): EventEnvelope {
  return newEvent({
    type: 'warden.user.v1.registered',
    source: 'user-service',
    payload: Uint8Array.of(8, 1, 18, 3),
    ...overrides,
  });
}

function asMessage(env: EventEnvelope) {
  return { subject: env.type, data: env.payload, headers: toNatsHeaders(env) };
}

function withoutHeader(env: EventEnvelope, name: string) {
  const h = headers();
  for (const [key, values] of toNatsHeaders(env)) if (key !== name) h.set(key, values[0]!);
  return { subject: env.type, data: env.payload, headers: h };
}

describe('newEvent', () => {
  it('gives each event a new UUIDv7 id, in creation order', () => {
    const first = anEnvelope();
    const second = anEnvelope();
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(second.id > first.id).toBe(true);
  });

  it('keeps the given occurrence time', () => {
    const time = new Date('2025-06-01T12:00:00.123Z');
    expect(anEnvelope({ time }).time).toBe(time);
  });
});

describe('toNatsHeaders', () => {
  it('writes the dedupe id and CloudEvents binary-mode headers', () => {
    const env = anEnvelope({
      traceparent: TRACEPARENT,
      time: new Date('2025-06-01T12:00:00.123Z'),
    });
    const h = toNatsHeaders(env);
    expect(h.get('Nats-Msg-Id')).toBe(env.id);
    expect(h.get('ce-id')).toBe(env.id);
    expect(h.get('ce-type')).toBe('warden.user.v1.registered');
    expect(h.get('ce-source')).toBe('user-service');
    expect(h.get('ce-time')).toBe('2025-06-01T12:00:00.123Z');
    expect(h.get('ce-specversion')).toBe('1.0');
    expect(h.get('content-type')).toBe('application/protobuf');
    expect(h.get('traceparent')).toBe(TRACEPARENT);
  });

  it('leaves out traceparent when there is none', () => {
    expect(toNatsHeaders(anEnvelope()).has('traceparent')).toBe(false);
  });
});

describe('fromNatsMessage', () => {
  it('reads back what toNatsHeaders wrote', () => {
    const env = anEnvelope({ traceparent: TRACEPARENT, subjectId: 'user-1' });
    expect(fromNatsMessage(asMessage(env))).toEqual(env);
  });

  it('leaves optional fields absent', () => {
    const parsed = fromNatsMessage(asMessage(anEnvelope()));
    expect(parsed).not.toHaveProperty('traceparent');
    expect(parsed).not.toHaveProperty('subjectId');
  });

  it.each(['ce-id', 'ce-type', 'ce-source', 'ce-time', 'ce-specversion'])(
    'rejects a message without %s',
    (name) => {
      const msg = withoutHeader(anEnvelope(), name);
      expect(() => fromNatsMessage(msg)).toThrow(InvalidEventError);
      expect(() => fromNatsMessage(msg)).toThrow(name);
    },
  );

  it('rejects a message without headers', () => {
    expect(() => fromNatsMessage({ subject: 'x.y', data: new Uint8Array() })).toThrow(/no headers/);
  });

  it('rejects an id that is not a UUID and a time that is not a time', () => {
    const env = anEnvelope();
    const badId = asMessage(env);
    badId.headers.set('ce-id', 'not-a-uuid');
    expect(() => fromNatsMessage(badId)).toThrow(/not a UUID/);
    const badTime = asMessage(env);
    badTime.headers.set('ce-time', 'yesterday');
    expect(() => fromNatsMessage(badTime)).toThrow(/invalid ce-time/);
  });

  it('rejects another CloudEvents spec version', () => {
    const msg = asMessage(anEnvelope());
    msg.headers.set('ce-specversion', '0.3');
    expect(() => fromNatsMessage(msg)).toThrow(/specversion/);
  });
});

describe('envelopeFor', () => {
  const userEvent = envelopeFor({ source: 'user-service', subjectPrefix: 'warden.user.v1.' });
  const time = new Date('2026-11-30T06:00:00.000Z');

  it("makes one service's envelopes: type is prefix + event, with source, subject and time", () => {
    const env = userEvent('registered', Uint8Array.of(1), {
      subjectId: 'u1',
      time,
      traceparent: TRACEPARENT,
    });
    expect(env).toMatchObject({
      type: 'warden.user.v1.registered',
      source: 'user-service',
      subjectId: 'u1',
      time,
      traceparent: TRACEPARENT,
      payload: Uint8Array.of(1),
    });
    expect(env.id).not.toBe(
      userEvent('registered', Uint8Array.of(1), { subjectId: 'u1', time }).id,
    );
  });

  it('carries no traceparent when the write had none', () => {
    expect(userEvent('deleted', Uint8Array.of(), { subjectId: 'u1', time })).not.toHaveProperty(
      'traceparent',
    );
    expect(
      userEvent('deleted', Uint8Array.of(), { subjectId: 'u1', time, traceparent: '' }),
    ).not.toHaveProperty('traceparent');
  });
});
