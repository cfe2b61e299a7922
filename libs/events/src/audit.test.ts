import { describe, expect, it } from 'vitest';
import { actorHeader, auditColumns, auditEntry, traceIdOf, type AuditContext } from './audit.js';
import { envelopeFor, fromNatsMessage, toNatsHeaders } from './envelope.js';
import { auditEntriesOf } from './outbox-schema.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE}-00f067aa0ba902b7-01`;
const USER = '0190a000-0000-7000-8000-000000000001';

const admin: AuditContext = {
  actor: { type: 'USER', id: USER, viaService: 'gateway' },
  requestId: 'req-1',
  traceparent: TRACEPARENT,
};

describe('traceIdOf', () => {
  it('reads the trace id of a W3C traceparent, and nothing of a missing, malformed or zero one', () => {
    expect(traceIdOf(TRACEPARENT)).toBe(TRACE);
    expect(traceIdOf(undefined)).toBe('');
    expect(traceIdOf('not-a-traceparent')).toBe('');
    expect(traceIdOf(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBe('');
  });
});

describe('actorHeader', () => {
  it('names users and services by kind, and warden itself as system', () => {
    expect(actorHeader(admin.actor)).toBe(`user:${USER}`);
    expect(actorHeader({ type: 'SERVICE', id: 'gateway', viaService: '' })).toBe('service:gateway');
    expect(actorHeader({ type: 'SYSTEM', id: '', viaService: 'user-service' })).toBe('system');
  });
});

describe('auditEntry', () => {
  it('takes actor, request id and trace from the context, the facts from the change', () => {
    const entry = auditEntry(
      { action: 'user.disabled', target: { type: 'user', id: USER }, reason: 'fraud' },
      admin,
      { eventId: '0190a000-0000-7000-8000-00000000000e' },
    );
    expect(entry).toMatchObject({
      actor: admin.actor,
      action: 'user.disabled',
      target: { type: 'user', id: USER },
      requestId: 'req-1',
      traceId: TRACE,
      reason: 'fraud',
      eventId: '0190a000-0000-7000-8000-00000000000e',
      details: {},
    });
    expect(entry.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('is a system entry with no request outside any context', () => {
    const entry = auditEntry({ action: 'session.expired', target: { type: 'session', id: 's' } });
    expect(entry.actor).toEqual({ type: 'SYSTEM', id: '', viaService: '' });
    expect(entry.requestId).toBe('');
    expect(entry.traceId).toBe('');
  });

  it('keeps caller-given text storable: no NUL (Postgres refuses it), at most 1024 characters', () => {
    const entry = auditEntry(
      {
        action: 'user.disabled',
        target: { type: 'user', id: USER },
        reason: `a\u0000b${'x'.repeat(2000)}`,
        details: { note: 'c\u0000d' },
      },
      { ...admin, requestId: 'r\u0000q' },
    );
    expect(entry.reason).toHaveLength(1024);
    expect(entry.reason.startsWith('abx')).toBe(true);
    expect(entry.details).toEqual({ note: 'cd' });
    expect(entry.requestId).toBe('rq');
  });

  it('binds a change without an event as a NULL event id', () => {
    const columns = auditColumns([
      auditEntry({ action: 'user.code_issued', target: { type: 'user', id: USER } }, admin),
    ]);
    expect(columns).toHaveLength(13);
    expect(columns[11]).toEqual([null]);
    expect(columns[12]).toEqual(['{}']);
  });
});

describe('envelopeFor with an audit context', () => {
  const make = envelopeFor({
    source: 'user-service',
    subjectPrefix: 'warden.user.v1.',
    context: () => admin,
  });

  it('carries the actor and request id as CloudEvents extensions, read back by consumers', () => {
    const env = make('disabled', Uint8Array.of(1), { subjectId: USER, time: new Date() });
    const h = toNatsHeaders(env);
    expect(h.get('ce-wardenactor')).toBe(`user:${USER}`);
    expect(h.get('ce-wardenrequestid')).toBe('req-1');
    expect(h.get('traceparent')).toBe(TRACEPARENT);
    const read = fromNatsMessage({ subject: env.type, data: env.payload, headers: h });
    expect(read.actor).toBe(`user:${USER}`);
    expect(read.requestId).toBe('req-1');
  });

  it('makes the audit entry of the event, naming its id; the call traceparent wins', () => {
    const other = `00-${'a'.repeat(32)}-00f067aa0ba902b7-01`;
    const env = make('disabled', Uint8Array.of(1), {
      subjectId: USER,
      time: new Date(),
      traceparent: other,
      audit: { action: 'user.disabled', target: { type: 'user', id: USER } },
    });
    expect(env.audit).toMatchObject({
      eventId: env.id,
      traceId: 'a'.repeat(32),
      requestId: 'req-1',
    });
    expect(auditEntriesOf([env])).toEqual([env.audit]);
  });

  it('writes no audit entry for an event without facts, and no actor header without a context', () => {
    const plain = envelopeFor({ source: 's', subjectPrefix: 'p.' });
    const env = plain('x', Uint8Array.of(1), { subjectId: 'a', time: new Date() });
    expect(env.audit).toBeUndefined();
    expect(toNatsHeaders(env).get('ce-wardenactor')).toBe('');
    const facts = plain('x', Uint8Array.of(1), {
      subjectId: 'a',
      time: new Date(),
      audit: { action: 'x.done', target: { type: 't', id: 'a' } },
    });
    expect(facts.audit?.actor.type).toBe('SYSTEM');
  });
});
