import { describe, expect, it } from 'vitest';
import { newEvent } from './envelope.js';
import { EventSourceCheck, ownerOf, type RejectedEventsCounter } from './event-source.js';
import type { Logger } from './logger.js';

function recorder() {
  const warnings: Array<{ obj: unknown; msg: string | undefined }> = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (obj: object | string, msg?: string) => void warnings.push({ obj, msg }),
    error: () => undefined,
  };
  const counted: Array<Parameters<RejectedEventsCounter['inc']>[0]> = [];
  return {
    logger,
    warnings,
    counted,
    rejected: { inc: (l) => void counted.push(l) } as RejectedEventsCounter,
  };
}

const event = (type: string, source: string) =>
  newEvent({ type, source, payload: new Uint8Array() });

describe('ownerOf', () => {
  it('names the service owning each context, and none for other subjects', () => {
    expect(ownerOf('warden.user.v1.registered')).toBe('user-service');
    expect(ownerOf('warden.session.v1.ended')).toBe('session-service');
    expect(ownerOf('warden.authz.v1.role_assigned')).toBe('authz-service');
    expect(ownerOf('warden.billing.v1.paid')).toBeUndefined();
    expect(ownerOf('warden.user.v2.registered')).toBeUndefined();
    expect(ownerOf('t1234.user.v1.registered')).toBeUndefined();
  });
});

describe('EventSourceCheck', () => {
  it("admits an event from its subject's owner", () => {
    const r = recorder();
    const check = new EventSourceCheck({ subscription: 'warden.user.v1.>', ...r });
    const registered = event('warden.user.v1.registered', 'user-service');
    expect(check.admits('warden.user.v1.registered', registered)).toBe(true);
    expect(r.counted).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it('drops one from another service, warns once per event and counts every delivery', () => {
    const r = recorder();
    const check = new EventSourceCheck({ subscription: 'warden.user.v1.>', ...r });
    const forged = event('warden.user.v1.registered', 'session-service');
    expect(check.admits('warden.user.v1.registered', forged)).toBe(false);
    expect(check.admits('warden.user.v1.registered', forged)).toBe(false);
    expect(r.counted).toEqual([
      { subject: 'warden.user.v1.>', source: 'session-service', reason: 'source_not_owner' },
      { subject: 'warden.user.v1.>', source: 'session-service', reason: 'source_not_owner' },
    ]);
    expect(r.warnings).toEqual([
      {
        obj: {
          eventId: forged.id,
          subject: 'warden.user.v1.registered',
          source: 'session-service',
          expectedSource: 'user-service',
        },
        msg: 'event dropped: its source does not own the subject',
      },
    ]);
  });

  it('keeps the metric small: an unknown claimed source is counted as "other"', () => {
    const r = recorder();
    const check = new EventSourceCheck({ subscription: 'warden.session.v1.>', ...r });
    expect(
      check.admits('warden.session.v1.ended', event('warden.session.v1.ended', 'x'.repeat(300))),
    ).toBe(false);
    expect(r.counted).toEqual([
      { subject: 'warden.session.v1.>', source: 'other', reason: 'source_not_owner' },
    ]);
  });

  it('judges by the subject an event arrives on, whatever its ce-type claims', () => {
    const r = recorder();
    const check = new EventSourceCheck({ subscription: 'warden.session.v1.>', ...r });
    // A user-service event re-delivered onto a session subject is not session-service's.
    const moved = event('warden.user.v1.registered', 'user-service');
    expect(check.admits('warden.session.v1.started', moved)).toBe(false);
  });

  it('uses the given source for subjects outside warden contexts', () => {
    const r = recorder();
    const check = new EventSourceCheck({
      subscription: 't1.>',
      expectedSource: 'events-test',
      ...r,
    });
    expect(check.admits('t1.thing', event('t1.thing', 'events-test'))).toBe(true);
    expect(check.admits('t1.thing', event('t1.thing', 'user-service'))).toBe(false);
  });

  it('refuses a subscription no service owns when no source is given', () => {
    const r = recorder();
    expect(() => new EventSourceCheck({ subscription: 't1.>', logger: r.logger })).toThrow(
      /no service owns t1\.>/,
    );
  });
});
