import { describe, expect, it } from 'vitest';
import { anAuthzApp } from '../../../test/support/harness.js';
import { aServiceCall, aUserId } from '../../../test/support/mothers.js';

describe('AssignRole', () => {
  it('assigns, records RoleAssigned, and the next check already sees it', async () => {
    const h = await anAuthzApp();
    const subjectId = aUserId();
    expect((await h.model.decide(subjectId, 'game.join')).allowed).toBe(false);

    const { value: assignment, revision } = await h.bus.run(
      h.useCases.assignRole,
      { subjectId, role: 'player' },
      h.asAdmin,
    );

    expect(assignment).toEqual({ subjectId, role: 'player', createTime: h.clock.now() });
    expect(revision).toBe(1);
    expect(h.newEvents()).toEqual([
      { type: 'role_assigned', assignment, occurTime: h.clock.now(), revision },
    ]);
    expect(h.sync.watermark.revision).toBe(revision);
    expect((await h.model.decide(subjectId, 'game.join')).allowed).toBe(true);
  });

  it('replaces the expire_time of a role already held', async () => {
    const h = await anAuthzApp();
    const subjectId = aUserId();
    const soon = new Date(h.clock.now().getTime() + 60_000);
    await h.bus.run(
      h.useCases.assignRole,
      { subjectId, role: 'player', expireTime: soon },
      h.asAdmin,
    );
    await h.bus.run(h.useCases.assignRole, { subjectId, role: 'player' }, h.asAdmin);
    h.clock.advance(120_000);
    expect((await h.model.decide(subjectId, 'game.join')).allowed).toBe(true);
    expect(h.newEvents()).toHaveLength(2);
  });

  it('lets a time-limited grant lapse by itself', async () => {
    const h = await anAuthzApp();
    const subjectId = aUserId();
    const expireTime = new Date(h.clock.now().getTime() + 60_000);
    await h.bus.run(h.useCases.assignRole, { subjectId, role: 'admin', expireTime }, h.asAdmin);
    expect((await h.model.decide(subjectId, 'user.disable')).allowed).toBe(true);
    h.clock.set(expireTime);
    expect((await h.model.decide(subjectId, 'user.disable')).allowed).toBe(false);
  });

  it('refuses an unknown role with NOT_FOUND and writes nothing', async () => {
    const h = await anAuthzApp();
    const subjectId = aUserId();
    await expect(
      h.bus.run(h.useCases.assignRole, { subjectId, role: 'ghost' }, h.asAdmin),
    ).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'ROLE_NOT_FOUND',
    });
    expect(h.newEvents()).toEqual([]);
    expect(await h.repository.assignmentsOf(subjectId)).toEqual([]);
  });

  it('reports every bad field', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(
        h.useCases.assignRole,
        { subjectId: 'alice', role: 'Not A Role', requestId: 'x'.repeat(129) },
        h.asAdmin,
      ),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [
        { field: 'subject_id', description: expect.any(String) },
        { field: 'role', description: expect.any(String) },
        { field: 'request_id', description: 'at most 128 characters' },
      ],
    });
    await expect(
      h.bus.run(h.useCases.assignRole, { subjectId: '', role: '' }, h.asAdmin),
    ).rejects.toMatchObject({
      violations: [
        { field: 'subject_id', description: 'is required' },
        { field: 'role', description: 'is required' },
      ],
    });
  });

  it('refuses an expire_time that is not in the future', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(
        h.useCases.assignRole,
        { subjectId: aUserId(), role: 'player', expireTime: h.clock.now() },
        h.asAdmin,
      ),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'expire_time', description: 'must be in the future' }],
    });
  });

  it('takes service subjects', async () => {
    const h = await anAuthzApp();
    await h.bus.run(
      h.useCases.assignRole,
      { subjectId: 'service:billing', role: 'admin' },
      h.asAdmin,
    );
    expect((await h.model.decide('service:billing', 'user.list')).allowed).toBe(true);
  });

  it('is for role.assign holders only', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(h.useCases.assignRole, { subjectId: h.playerId, role: 'admin' }, h.asPlayer),
    ).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
      reason: 'PERMISSION_DENIED',
    });
    await expect(
      h.bus.run(
        h.useCases.assignRole,
        { subjectId: h.playerId, role: 'admin' },
        aServiceCall('gateway'),
      ),
    ).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'USER_TOKEN_REQUIRED',
    });
    expect(h.newEvents()).toEqual([]);
  });

  it('replays a request_id with the first answer and refuses its reuse for another request', async () => {
    const h = await anAuthzApp();
    const subjectId = aUserId();
    const first = await h.bus.run(
      h.useCases.assignRole,
      { subjectId, role: 'player', requestId: 'req-1' },
      h.asAdmin,
    );
    h.clock.advance(1_000);
    const replay = await h.bus.run(
      h.useCases.assignRole,
      { subjectId, role: 'player', requestId: 'req-1' },
      h.asAdmin,
    );
    expect(replay).toEqual(first);
    expect(h.newEvents()).toHaveLength(1);
    await expect(
      h.bus.run(h.useCases.assignRole, { subjectId, role: 'guest', requestId: 'req-1' }, h.asAdmin),
    ).rejects.toMatchObject({ kind: 'ALREADY_EXISTS', reason: 'IDEMPOTENCY_KEY_REUSED' });
  });
});
