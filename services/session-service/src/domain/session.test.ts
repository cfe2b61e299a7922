import { describe, expect, it } from 'vitest';
import { aSession, HOUR, MINUTE, someSettings, T0 } from '../../test/support/mothers.js';
import { asOf, assertUsable, end, expire, newSession, rotate, touch } from './session.js';

const at = (ms: number) => new Date(T0.getTime() + ms);
const startedAt = (now: Date, lifetimes: Parameters<typeof someSettings>[0]) =>
  newSession({
    id: 's',
    userId: 'u',
    tokenHash: 'h',
    client: { ipAddress: '', userAgent: '' },
    now,
    lifetimes: someSettings(lifetimes),
  });

describe('a new session', () => {
  it('expires absolutely after its lifetime and idles out after the idle timeout', () => {
    const session = startedAt(T0, { absoluteTtlMs: 24 * HOUR, idleTimeoutMs: 30 * MINUTE });
    expect(session).toMatchObject({
      status: 'ACTIVE',
      createTime: T0,
      lastSeenTime: T0,
      endTime: null,
      endReason: null,
    });
    expect(session.expireTime).toEqual(at(24 * HOUR));
    expect(session.idleExpireTime).toEqual(at(30 * MINUTE));
  });

  it('never gets an idle expiry past its absolute expiry', () => {
    const session = startedAt(T0, { absoluteTtlMs: 10 * MINUTE, idleTimeoutMs: 30 * MINUTE });
    expect(session.idleExpireTime).toEqual(session.expireTime);
  });
});

describe('asOf', () => {
  it('reads a session past its idle expiry as expired at that instant', () => {
    const session = aSession();
    expect(asOf(session, at(30 * MINUTE))).toMatchObject({
      status: 'EXPIRED',
      endReason: 'IDLE_TIMEOUT',
      endTime: session.idleExpireTime,
    });
    expect(asOf(session, at(30 * MINUTE - 1)).status).toBe('ACTIVE');
  });

  it('prefers the absolute expiry when both have passed', () => {
    const session = aSession();
    expect(asOf(session, at(25 * HOUR))).toMatchObject({
      status: 'EXPIRED',
      endReason: 'ABSOLUTE_TIMEOUT',
      endTime: session.expireTime,
    });
  });

  it('leaves an ended session as it is', () => {
    const ended = end(aSession(), 'LOGOUT', at(MINUTE))!;
    expect(asOf(ended, at(48 * HOUR))).toBe(ended);
  });
});

describe('assertUsable', () => {
  it('refuses ended and expired sessions with their reasons', () => {
    const session = aSession();
    expect(() => assertUsable(session, at(MINUTE))).not.toThrow();
    expect(() => assertUsable(end(session, 'ADMIN', at(MINUTE))!, at(MINUTE))).toThrow(
      expect.objectContaining({ kind: 'UNAUTHENTICATED', reason: 'SESSION_ENDED' }),
    );
    expect(() => assertUsable(session, at(31 * MINUTE))).toThrow(
      expect.objectContaining({ kind: 'UNAUTHENTICATED', reason: 'SESSION_EXPIRED' }),
    );
  });
});

describe('touch and rotate', () => {
  it('slide the idle expiry from the activity, capped by the absolute expiry', () => {
    const session = aSession();
    const touched = touch(session, at(20 * MINUTE), 30 * MINUTE);
    expect(touched.lastSeenTime).toEqual(at(20 * MINUTE));
    expect(touched.idleExpireTime).toEqual(at(50 * MINUTE));
    expect(touch(session, at(24 * HOUR - MINUTE), 30 * MINUTE).idleExpireTime).toEqual(
      session.expireTime,
    );
  });

  it('rotate replaces the token hash and keeps the absolute expiry', () => {
    const session = aSession();
    const rotated = rotate(session, 'new-hash', at(MINUTE), 30 * MINUTE);
    expect(rotated).toMatchObject({
      tokenHash: 'new-hash',
      expireTime: session.expireTime,
      lastSeenTime: at(MINUTE),
    });
  });
});

describe('end and expire', () => {
  it('end records why and when, once', () => {
    const ended = end(aSession(), 'LOGOUT', at(MINUTE))!;
    expect(ended).toMatchObject({ status: 'ENDED', endReason: 'LOGOUT', endTime: at(MINUTE) });
    expect(end(ended, 'ADMIN', at(2 * MINUTE))).toBeUndefined();
  });

  it('end leaves a session that already expired alone', () => {
    expect(end(aSession(), 'ADMIN', at(HOUR))).toBeUndefined();
  });

  it('expire records the expiry reached, and nothing for a live or stopped session', () => {
    const session = aSession();
    expect(expire(session, at(HOUR))).toMatchObject({
      status: 'EXPIRED',
      endReason: 'IDLE_TIMEOUT',
      endTime: session.idleExpireTime,
    });
    expect(expire(session, at(MINUTE))).toBeUndefined();
    expect(expire(end(session, 'LOGOUT', at(MINUTE))!, at(HOUR))).toBeUndefined();
  });
});
