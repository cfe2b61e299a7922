import { describe, expect, it } from 'vitest';
import { FakeSessionDirectory } from '../../../test/support/fake-session-directory.js';
import { anAuthzApp } from '../../../test/support/harness.js';
import { aUserCall, aUserId } from '../../../test/support/mothers.js';
import { ForgetEndedSessions, LapseSessionGrantsHandler } from './lapse-session-grants.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The harness with session-service faked: the player has an active session ending in 8 h. */
async function withSessions(maxBoundGrantTtlMs?: number) {
  const sessions = new FakeSessionDirectory();
  const h = await anAuthzApp({
    sessions,
    ...(maxBoundGrantTtlMs === undefined ? {} : { maxBoundGrantTtlMs }),
  });
  const sessionId = aUserId();
  const sessionEnd = new Date(h.clock.now().getTime() + 8 * HOUR);
  sessions.add(sessionId, { userId: h.playerId, active: true, expireTime: sessionEnd });
  const inAnHour = new Date(h.clock.now().getTime() + HOUR);
  const elevate = (extra: object = {}) =>
    h.bus.run(
      h.useCases.assignRole,
      {
        subjectId: h.playerId,
        role: 'admin',
        expireTime: inAnHour,
        boundSessionId: sessionId,
        ...extra,
      },
      h.asAdmin,
    );
  const lapse = new LapseSessionGrantsHandler(h.repository, h.clock);
  let eventNo = 0;
  const sessionEnded = (id = sessionId) =>
    lapse.execute({
      sessionId: id,
      endTime: h.clock.now(),
      inbox: { consumer: 'authz-session-events', eventId: `event-${++eventNo}` },
    });
  return { h, sessions, sessionId, sessionEnd, inAnHour, elevate, lapse, sessionEnded };
}

describe('AssignRole bound to a session', () => {
  it('grants until expire_time, bound to the session, announced with the binding', async () => {
    const { h, sessionId, inAnHour, elevate } = await withSessions();
    const { value } = await elevate();
    expect(value).toMatchObject({ boundSessionId: sessionId, expireTime: inAnHour });
    expect(h.newEvents().at(-1)).toMatchObject({
      type: 'role_assigned',
      assignment: { subjectId: h.playerId, role: 'admin', boundSessionId: sessionId },
    });
    expect((await h.model.decide(h.playerId, 'user.delete')).allowed).toBe(true);
  });

  it('lapses when the session ends: RoleRevoked SESSION_ENDED, other grants untouched', async () => {
    const { h, elevate, sessionEnded } = await withSessions();
    await elevate();
    await elevate({ role: 'guest', scope: { type: 'guild', id: '1' } });
    const before = h.newEvents().length;
    h.clock.advance(MINUTE);
    const lapsed = await sessionEnded();
    expect(lapsed!.map((a) => a.role)).toEqual(['admin', 'guest']);
    expect(h.newEvents().slice(before)).toEqual([
      {
        type: 'role_revoked',
        subjectId: h.playerId,
        role: 'admin',
        reason: 'SESSION_ENDED',
        occurTime: h.clock.now(),
        revision: expect.any(Number),
      },
      {
        type: 'role_revoked',
        subjectId: h.playerId,
        role: 'guest',
        scope: { type: 'guild', id: '1' },
        reason: 'SESSION_ENDED',
        occurTime: h.clock.now(),
        revision: expect.any(Number),
      },
    ]);
    // The worker's events reach the server's policy model, which drops the subject.
    await h.sync.committed(h.newEvents().slice(before));
    expect((await h.model.decide(h.playerId, 'user.delete')).allowed).toBe(false);
    expect((await h.repository.assignmentsOf(h.playerId)).map((a) => a.role)).toEqual(['player']);
  });

  it('applies each session event once', async () => {
    const { h, sessionId, elevate, lapse } = await withSessions();
    await elevate();
    const command = {
      sessionId,
      endTime: h.clock.now(),
      inbox: { consumer: 'authz-session-events', eventId: 'same' },
    };
    expect(await lapse.execute(command)).toHaveLength(1);
    const before = h.newEvents().length;
    expect(await lapse.execute(command)).toBeUndefined();
    expect(h.newEvents()).toHaveLength(before);
  });

  it('refuses to bind to a session already known to have ended, even if session-service still says active', async () => {
    const { h, elevate, sessionEnded } = await withSessions();
    // The race: the session ends after AssignRole asked session-service, before it commits.
    await sessionEnded();
    const before = h.newEvents().length;
    await expect(elevate()).rejects.toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'SESSION_NOT_ACTIVE',
    });
    expect(h.newEvents()).toHaveLength(before);
    expect((await h.model.decide(h.playerId, 'user.delete')).allowed).toBe(false);
  });

  it('refuses an ended, expired or unknown session as SESSION_NOT_ACTIVE', async () => {
    const { h, sessions, sessionId, elevate } = await withSessions();
    sessions.add(sessionId, { userId: h.playerId, active: false });
    await expect(elevate()).rejects.toMatchObject({ reason: 'SESSION_NOT_ACTIVE' });
    await expect(elevate({ boundSessionId: aUserId() })).rejects.toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'SESSION_NOT_ACTIVE',
    });
  });

  it("refuses another user's session as INVALID_ARGUMENT", async () => {
    const { h, sessions, elevate } = await withSessions();
    const theirs = aUserId();
    sessions.add(theirs, { userId: h.adminId, active: true });
    await expect(elevate({ boundSessionId: theirs })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'bound_session_id', description: expect.stringContaining('another') }],
    });
  });

  it('answers UNAVAILABLE when session-service cannot say, never binding unchecked', async () => {
    const { h, sessions, elevate } = await withSessions();
    sessions.down = true;
    const before = h.newEvents().length;
    await expect(elevate()).rejects.toMatchObject({
      kind: 'UNAVAILABLE',
      reason: 'SESSIONS_UNAVAILABLE',
    });
    expect(h.newEvents()).toHaveLength(before);
    // Without a session-service at all, the same.
    const bare = await anAuthzApp();
    await expect(
      bare.bus.run(
        bare.useCases.assignRole,
        {
          subjectId: bare.playerId,
          role: 'admin',
          expireTime: new Date(bare.clock.now().getTime() + HOUR),
          boundSessionId: aUserId(),
        },
        bare.asAdmin,
      ),
    ).rejects.toMatchObject({ kind: 'UNAVAILABLE', reason: 'SESSIONS_UNAVAILABLE' });
  });

  it('needs an expire_time within authz.max_bound_grant_ttl, a session id and a user subject', async () => {
    const { h, sessions, elevate } = await withSessions(2 * HOUR);
    await expect(elevate({ expireTime: undefined })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'expire_time', description: 'is required with bound_session_id' }],
    });
    await expect(
      elevate({ expireTime: new Date(h.clock.now().getTime() + 3 * HOUR) }),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'expire_time', description: expect.stringContaining('120 minutes') }],
    });
    await expect(elevate({ boundSessionId: 'not-a-session' })).rejects.toMatchObject({
      violations: [{ field: 'bound_session_id', description: expect.any(String) }],
    });
    await expect(elevate({ subjectId: 'service:game-server' })).rejects.toMatchObject({
      violations: [{ field: 'bound_session_id', description: 'only a user subject has sessions' }],
    });
    expect(sessions.lookups).toBe(0);
  });

  it('asks nothing about the session of a caller who may not hand the role out: the same refusal for an existing and an unknown session', async () => {
    const { h, sessions, sessionId, inAnHour } = await withSessions();
    await h.bus.run(
      h.useCases.createRole,
      { name: 'helpdesk', description: 'helpdesk', permissions: ['role.assign'], inherits: [] },
      h.asAdmin,
    );
    const helpdeskId = aUserId();
    await h.bus.run(h.useCases.assignRole, { subjectId: helpdeskId, role: 'helpdesk' }, h.asAdmin);
    const before = h.newEvents().length;
    const bind = (role: string, boundSessionId: string) =>
      h.bus
        .run(
          h.useCases.assignRole,
          { subjectId: h.playerId, role, expireTime: inAnHour, boundSessionId },
          aUserCall(helpdeskId),
        )
        .then(
          () => undefined,
          (error: unknown) => error,
        );
    const lookups = sessions.lookups;
    for (const role of ['admin', 'no-such-role']) {
      const existing = await bind(role, sessionId);
      const unknown = await bind(role, aUserId());
      expect(existing).toMatchObject({ kind: expect.any(String), reason: expect.any(String) });
      expect(unknown).toEqual(existing);
      expect(JSON.stringify(unknown)).toEqual(JSON.stringify(existing));
    }
    expect(await bind('admin', sessionId)).toMatchObject({
      kind: 'PERMISSION_DENIED',
      reason: 'ESCALATION_DENIED',
    });
    expect(await bind('no-such-role', sessionId)).toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'ROLE_NOT_FOUND',
    });
    expect(sessions.lookups).toBe(lookups);
    expect(h.newEvents()).toHaveLength(before);
  });

  it('lapses no later than the session itself expires', async () => {
    const { h, sessions, sessionId, elevate } = await withSessions();
    const sessionEnd = new Date(h.clock.now().getTime() + 10 * MINUTE);
    sessions.add(sessionId, { userId: h.playerId, active: true, expireTime: sessionEnd });
    const { value } = await elevate();
    expect(value.expireTime).toEqual(sessionEnd);
    h.clock.set(sessionEnd);
    expect((await h.model.decide(h.playerId, 'user.delete')).allowed).toBe(false);
  });

  it('replaces the binding when assigned again on the same scope', async () => {
    const { h, elevate, sessionEnded } = await withSessions();
    await elevate();
    await h.bus.run(h.useCases.assignRole, { subjectId: h.playerId, role: 'admin' }, h.asAdmin);
    expect(await sessionEnded()).toEqual([]);
    const [admin] = (await h.repository.assignmentsOf(h.playerId)).filter(
      (a) => a.role === 'admin',
    );
    expect(admin).not.toHaveProperty('boundSessionId');
  });

  it('forgets ended sessions once no binding can still be racing them', async () => {
    const { h, sessionEnded, elevate, sessions, sessionId } = await withSessions();
    await sessionEnded();
    const forget = new ForgetEndedSessions(h.repository, h.clock, 24 * HOUR, 1);
    h.clock.advance(23 * HOUR);
    expect(await forget.sweep()).toBe(0);
    h.clock.advance(2 * HOUR);
    expect(await forget.sweep()).toBe(1);
    // Then only session-service's word counts (here: still active, so the grant is given).
    sessions.add(sessionId, {
      userId: h.playerId,
      active: true,
      expireTime: new Date(h.clock.now().getTime() + 8 * HOUR),
    });
    await expect(
      elevate({ expireTime: new Date(h.clock.now().getTime() + HOUR) }),
    ).resolves.toBeDefined();
  });
});
