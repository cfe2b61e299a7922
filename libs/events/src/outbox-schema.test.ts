import { describe, expect, it } from 'vitest';
import { newEvent } from './envelope.js';
import { outboxInsertStatement, toOutboxRow } from './outbox-schema.js';

describe('toOutboxRow', () => {
  it('maps an event onto the outbox columns, headers without the dedupe id', () => {
    const time = new Date('2025-06-01T12:00:00.123Z');
    const payload = Uint8Array.of(1, 2, 3);
    const env = newEvent({
      type: 'warden.session.v1.ended',
      source: 'session-service',
      payload,
      time,
    });
    expect(toOutboxRow(env)).toEqual({
      id: env.id,
      subject: 'warden.session.v1.ended',
      type: 'warden.session.v1.ended',
      payload,
      createTime: time,
      headers: {
        'ce-id': env.id,
        'ce-type': 'warden.session.v1.ended',
        'ce-source': 'session-service',
        'ce-time': '2025-06-01T12:00:00.123Z',
        'ce-specversion': '1.0',
        'content-type': 'application/protobuf',
      },
    });
  });
});

describe('outboxInsertStatement', () => {
  it('writes one parameterized row per event, headers as jsonb', () => {
    const events = [1, 2].map((n) =>
      newEvent({
        type: 'warden.test.v1.happened',
        source: 'test',
        payload: new Uint8Array([n]),
        subjectId: `s${n}`,
      }),
    );
    const { sql, values } = outboxInsertStatement(events);
    expect(sql).toContain('($1::uuid, $2, $3, $4, $5::jsonb, $6::timestamptz), ($7::uuid');
    expect(values).toHaveLength(12);
    expect(values[0]).toBe(events[0]!.id);
    expect(JSON.parse(values[4] as string)).toMatchObject({
      'ce-id': events[0]!.id,
      'ce-subject': 's1',
    });
    expect(() => outboxInsertStatement([])).toThrow(/at least one event/);
  });
});
