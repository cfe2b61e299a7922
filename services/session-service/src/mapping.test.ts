import { sessionEventsV1 } from '@warden/proto';
import { describe, expect, it } from 'vitest';
import { aSession } from '../test/support/mothers.js';
import { toEnvelope } from './mapping.js';

describe('session event envelope', () => {
  it('puts a started session on warden.session.v1.started without its client data', () => {
    const session = aSession({ client: { ipAddress: '198.51.100.77', userAgent: 'Secret/1.0' } });
    const envelope = toEnvelope('started', session);
    expect(envelope).toMatchObject({
      type: 'warden.session.v1.started',
      source: 'session-service',
      subjectId: session.id,
    });
    const decoded = sessionEventsV1.SessionStarted.decode(envelope.payload);
    expect(decoded).toMatchObject({ sessionId: session.id, userId: session.userId });
    expect(decoded.client).toBeUndefined();
    const bytes = Buffer.from(envelope.payload).toString('latin1');
    expect(bytes).not.toContain('198.51.100.77');
    expect(bytes).not.toContain('Secret/1.0');
  });
});
