import { authzEventsV1 } from '@warden/proto';
import { describe, expect, it } from 'vitest';
import { eventRevision, HeardRevisions } from './heard-revisions.js';

describe('eventRevision', () => {
  it('reads the revision of every authz event, 0 for none or an undecodable payload', () => {
    const revoked = authzEventsV1.RoleRevoked.encode({
      subjectId: 'u1',
      role: 'player',
      reason: authzEventsV1.RoleRevokeReason.ROLE_REVOKE_REASON_REVOKED,
      revision: 12,
    }).finish();
    expect(eventRevision('warden.authz.v1.role_revoked', revoked)).toBe(12);
    const deleted = authzEventsV1.RoleDeleted.encode({ name: 'x', revision: 3 }).finish();
    expect(eventRevision('warden.authz.v1.role_deleted', deleted)).toBe(3);
    expect(eventRevision('warden.authz.v1.role_created', new Uint8Array())).toBe(0);
    expect(eventRevision('warden.authz.v1.role_updated', new Uint8Array([0xff, 0xff]))).toBe(0);
    expect(eventRevision('warden.authz.v1.something_new', revoked)).toBe(0);
  });
});

describe('HeardRevisions', () => {
  it('vouches for a decision up to the contiguous revisions heard after it was stored', () => {
    const heard = new HeardRevisions();
    expect(heard.vouches(5, 0, 5)).toBe(false); // nothing heard yet: no count
    heard.heard(6); // the count starts at 5
    expect(heard.vouches(5, 0, 6)).toBe(true);
    expect(heard.vouches(4, 0, 6)).toBe(false); // older than the count's start
    heard.heard(8);
    expect(heard.vouches(5, 0, 8)).toBe(false); // 7 not heard
    heard.heard(7);
    expect(heard.vouches(5, 0, 8)).toBe(true);
    expect(heard.vouches(5, 0, 9)).toBe(false);
  });

  it('never vouches for a decision stored after a newer revision was heard (a lagging answer)', () => {
    const heard = new HeardRevisions();
    heard.heard(10);
    heard.heard(11);
    // Stored when 11 had been heard, reflecting 10: 11's clear came before it, so it may miss 11.
    expect(heard.vouches(10, heard.highest, 11)).toBe(false);
    expect(heard.vouches(11, heard.highest, 11)).toBe(true);
  });

  it('starts over on an event without a revision, vouching only from the new start', () => {
    const heard = new HeardRevisions();
    heard.heard(3);
    expect(heard.heard(0)).toBe(false);
    expect(heard.highest).toBe(0);
    expect(heard.vouches(3, 0, 3)).toBe(false);
    heard.heard(9);
    expect(heard.vouches(3, 0, 9)).toBe(false);
    expect(heard.vouches(8, 0, 9)).toBe(true);
  });
});
