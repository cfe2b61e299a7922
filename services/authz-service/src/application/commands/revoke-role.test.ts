import { describe, expect, it } from 'vitest';
import { anAuthzApp } from '../../../test/support/harness.js';
import { aUserId } from '../../../test/support/mothers.js';

describe('RevokeRole', () => {
  it('revokes, records RoleRevoked (REVOKED), and checks deny at once', async () => {
    const h = await anAuthzApp();
    const revision = await h.bus.run(
      h.useCases.revokeRole,
      { subjectId: h.playerId, role: 'player' },
      h.asAdmin,
    );
    expect(revision).toBe(1);
    expect(h.newEvents()).toEqual([
      {
        type: 'role_revoked',
        subjectId: h.playerId,
        role: 'player',
        reason: 'REVOKED',
        occurTime: h.clock.now(),
        revision,
      },
    ]);
    expect((await h.model.decide(h.playerId, 'game.join')).allowed).toBe(false);
  });

  it('succeeds quietly when the subject does not hold the role', async () => {
    const h = await anAuthzApp();
    await h.bus.run(h.useCases.revokeRole, { subjectId: h.playerId, role: 'player' }, h.asAdmin);
    // Nothing held: no revision taken, the current one returned.
    expect(
      await h.bus.run(h.useCases.revokeRole, { subjectId: aUserId(), role: 'player' }, h.asAdmin),
    ).toBe(1);
    expect(h.newEvents()).toHaveLength(1);
    expect(await h.repository.currentRevision()).toBe(1);
  });

  it('refuses an unknown role', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(h.useCases.revokeRole, { subjectId: h.playerId, role: 'ghost' }, h.asAdmin),
    ).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'ROLE_NOT_FOUND',
    });
  });

  it('is for role.revoke holders only: a player cannot drop even its own role', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(h.useCases.revokeRole, { subjectId: h.playerId, role: 'player' }, h.asPlayer),
    ).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
    });
  });
});
