import { describe, expect, it } from 'vitest';
import { newEvent } from './envelope.js';
import { toOutboxRow } from './outbox-schema.js';

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
