import { describe, expect, it } from 'vitest';
import { aRole, aUserId, T0 } from '../../test/support/mothers.js';
import { coverageOf, holderSlices, plan, planAllows, rolesGranting } from './holders.js';
import type { HeldRole } from './assignment.js';
import { builtInRoles, type Role } from './role.js';
import { RoleCatalogue } from './role-catalogue.js';

const catalogueWith = (...extra: Role[]) => new RoleCatalogue([...builtInRoles(T0), ...extra]);
const later = (ms: number) => new Date(T0.getTime() + ms);

const moderator = aRole({
  name: 'moderator',
  permissions: ['guild.moderate'],
  inherits: ['player'],
});
const owner = aRole({ name: 'owner', permissions: ['guild.*:own'] });
const stepUp = aRole({
  name: 'step_up',
  permissions: ['guild.delete@aal2', 'guild.rename:own@aal2'],
});

describe('coverageOf', () => {
  const origin = { grant: 'x.y', role: 'r' };
  it('covers for anyone with a grant without :own, for the owner with an :own one', () => {
    expect(coverageOf({ unscoped: origin, own: origin }, false)).toBe('anyone');
    expect(coverageOf({ own: origin }, false)).toBe('owner');
    expect(coverageOf({}, true)).toBeUndefined();
  });

  it('counts @aal2 grants only at AAL2', () => {
    expect(coverageOf({ unscopedAal2: origin }, false)).toBeUndefined();
    expect(coverageOf({ unscopedAal2: origin }, true)).toBe('anyone');
    expect(coverageOf({ ownAal2: origin }, false)).toBeUndefined();
    expect(coverageOf({ ownAal2: origin }, true)).toBe('owner');
    expect(coverageOf({ own: origin, unscopedAal2: origin }, false)).toBe('owner');
    expect(coverageOf({ own: origin, unscopedAal2: origin }, true)).toBe('anyone');
  });
});

describe('rolesGranting', () => {
  it('resolves inheritance, wildcards and :own over the whole catalogue', () => {
    const catalogue = catalogueWith(moderator, owner);
    expect(rolesGranting(catalogue, 'guild.moderate', false)).toEqual([
      { role: 'admin', coverage: 'anyone' },
      { role: 'moderator', coverage: 'anyone' },
      { role: 'owner', coverage: 'owner' },
    ]);
    // Inherited: moderator inherits player, which inherits guest's user.read:own.
    expect(rolesGranting(catalogue, 'user.read', false)).toEqual([
      { role: 'admin', coverage: 'anyone' },
      { role: 'guest', coverage: 'owner' },
      { role: 'moderator', coverage: 'owner' },
      { role: 'player', coverage: 'owner' },
    ]);
  });

  it('leaves out @aal2 grants below AAL2', () => {
    const catalogue = catalogueWith(stepUp);
    expect(rolesGranting(catalogue, 'guild.delete', false)).toEqual([
      { role: 'admin', coverage: 'anyone' },
    ]);
    expect(rolesGranting(catalogue, 'guild.delete', true)).toEqual([
      { role: 'admin', coverage: 'anyone' },
      { role: 'step_up', coverage: 'anyone' },
    ]);
  });
});

describe('holderSlices', () => {
  const catalogue = catalogueWith(moderator, owner);
  const me = aUserId();

  it('without a resource: the unscoped holders of roles granting it without :own', () => {
    expect(holderSlices(catalogue, 'guild.moderate', undefined, false)).toEqual([
      { role: 'admin' },
      { role: 'moderator' },
    ]);
  });

  it('with a resource: the holders on it too, and :own roles only for its owner', () => {
    const resource = { type: 'guild', id: '42', ownerId: me };
    const scope = { type: 'guild', id: '42' };
    expect(holderSlices(catalogue, 'guild.moderate', resource, false)).toEqual([
      { role: 'admin' },
      { role: 'admin', scope },
      { role: 'moderator' },
      { role: 'moderator', scope },
      { role: 'owner', subjectId: me },
      { role: 'owner', scope, subjectId: me },
    ]);
  });

  it('without an owner no :own role counts; without a type and id no scope does', () => {
    expect(holderSlices(catalogue, 'guild.moderate', { type: 'guild' }, false)).toEqual([
      { role: 'admin' },
      { role: 'moderator' },
    ]);
    expect(holderSlices(catalogue, 'guild.moderate', { id: '42', ownerId: me }, false)).toEqual([
      { role: 'admin' },
      { role: 'moderator' },
      { role: 'owner', subjectId: me },
    ]);
  });

  it('names no slice for a scope or an owner nothing can be stored under', () => {
    for (const resource of [
      { type: 'guild', id: 'a\u0000b', ownerId: 'not-a-subject' },
      { type: 'Guild!', id: '42', ownerId: '\u0000' },
      { type: 'guild', id: 'x'.repeat(129), ownerId: me.toUpperCase() },
    ]) {
      expect(holderSlices(catalogue, 'guild.moderate', resource, false)).toEqual([
        { role: 'admin' },
        { role: 'moderator' },
      ]);
    }
  });
});

describe('plan', () => {
  const catalogue = catalogueWith(moderator, owner, stepUp);
  const held = (...roles: HeldRole[]) => roles;
  const planOf = (roles: HeldRole[], permission: string, aal2 = false, now = T0) =>
    plan(catalogue, roles, permission, permission.split('.')[0]!, now, aal2);

  it('is ALWAYS_ALLOWED for an unscoped grant without :own', () => {
    expect(planOf(held({ role: 'admin' }), 'guild.moderate')).toEqual({
      kind: 'ALWAYS_ALLOWED',
      ownerOnly: false,
      scopedResourceIds: [],
      stepUpRequired: false,
    });
    // One ALWAYS_ALLOWED grant beats the conditions of others.
    expect(planOf(held({ role: 'owner' }, { role: 'moderator' }), 'guild.moderate').kind).toBe(
      'ALWAYS_ALLOWED',
    );
  });

  it('is ALWAYS_DENIED with no grant, an expired one, or one of an unknown role', () => {
    const denied = {
      kind: 'ALWAYS_DENIED',
      ownerOnly: false,
      scopedResourceIds: [],
      stepUpRequired: false,
    };
    expect(planOf(held(), 'guild.moderate')).toEqual(denied);
    expect(planOf(held({ role: 'player' }), 'guild.moderate')).toEqual(denied);
    expect(planOf(held({ role: 'admin', expireTime: T0 }), 'guild.moderate')).toEqual(denied);
    expect(planOf(held({ role: 'gone' }), 'guild.moderate')).toEqual(denied);
    expect(plan(catalogue, undefined, 'guild.moderate', 'guild', T0)).toEqual(denied);
  });

  it('is CONDITIONAL owner_only for an unscoped :own grant', () => {
    expect(planOf(held({ role: 'player' }), 'session.end')).toEqual({
      kind: 'CONDITIONAL',
      ownerOnly: true,
      scopedResourceIds: [],
      stepUpRequired: false,
    });
  });

  it('lists the ids of scopes of the type whose role grants it, sorted, each once', () => {
    const on = (id: string, type = 'guild') => ({ role: 'moderator', scope: { type, id } });
    expect(
      planOf(
        held(on('9'), on('10'), on('9'), on('x', 'game'), {
          role: 'player',
          scope: { type: 'guild', id: 'p' },
        }),
        'guild.moderate',
      ),
    ).toEqual({
      kind: 'CONDITIONAL',
      ownerOnly: false,
      scopedResourceIds: ['10', '9'],
      stepUpRequired: false,
    });
    // With an unscoped :own grant too.
    expect(planOf(held(on('1'), { role: 'owner' }), 'guild.moderate')).toMatchObject({
      kind: 'CONDITIONAL',
      ownerOnly: true,
      scopedResourceIds: ['1'],
    });
    // A scoped grant that lapsed counts for nothing.
    expect(
      planOf(held({ ...on('1'), expireTime: later(1) }), 'guild.moderate', false, later(1)).kind,
    ).toBe('ALWAYS_DENIED');
  });

  it('leaves out a scoped :own grant (id AND owner cannot be said), to never over-allow', () => {
    const scoped = { role: 'owner', scope: { type: 'guild', id: '42' } };
    expect(planOf(held(scoped), 'guild.moderate').kind).toBe('ALWAYS_DENIED');
    expect(planOf(held(scoped, { role: 'owner' }), 'guild.moderate')).toMatchObject({
      kind: 'CONDITIONAL',
      ownerOnly: true,
      scopedResourceIds: [],
    });
  });

  it('says a step-up would widen the plan, and applies @aal2 grants at AAL2', () => {
    expect(planOf(held({ role: 'step_up' }), 'guild.delete')).toEqual({
      kind: 'ALWAYS_DENIED',
      ownerOnly: false,
      scopedResourceIds: [],
      stepUpRequired: true,
    });
    expect(planOf(held({ role: 'step_up' }), 'guild.delete', true).kind).toBe('ALWAYS_ALLOWED');
    expect(planOf(held({ role: 'step_up' }), 'guild.rename')).toMatchObject({
      kind: 'ALWAYS_DENIED',
      stepUpRequired: true,
    });
    expect(planOf(held({ role: 'step_up' }), 'guild.rename', true)).toEqual({
      kind: 'CONDITIONAL',
      ownerOnly: true,
      scopedResourceIds: [],
      stepUpRequired: false,
    });
    // player's user.remove_mfa:own@aal2: owner_only only at AAL2.
    expect(planOf(held({ role: 'player' }), 'user.remove_mfa')).toMatchObject({
      kind: 'ALWAYS_DENIED',
      stepUpRequired: true,
    });
  });

  it('does not ask for a step-up that would add nothing', () => {
    // owner_only already; the @aal2 :own grant adds no resource.
    const both = aRole({
      name: 'both',
      permissions: ['guild.rename:own', 'guild.rename:own@aal2'],
    });
    const plans = new RoleCatalogue([...builtInRoles(T0), both]);
    expect(plan(plans, [{ role: 'both' }], 'guild.rename', 'guild', T0).stepUpRequired).toBe(false);
    // A scoped @aal2 grant adds its id.
    const scoped = { role: 'step_up', scope: { type: 'guild', id: '7' } };
    expect(planOf(held({ role: 'owner' }, scoped), 'guild.delete')).toMatchObject({
      kind: 'CONDITIONAL',
      ownerOnly: true,
      stepUpRequired: true,
    });
    expect(planOf(held({ role: 'owner' }, scoped), 'guild.delete', true)).toMatchObject({
      scopedResourceIds: ['7'],
      stepUpRequired: false,
    });
  });
});

describe('planAllows', () => {
  const me = aUserId();
  const base = { ownerOnly: false, scopedResourceIds: [], stepUpRequired: false };
  it('reads a plan the way a WHERE clause would', () => {
    const r = { id: '1', ownerId: aUserId() };
    expect(planAllows({ ...base, kind: 'ALWAYS_ALLOWED' }, me, r)).toBe(true);
    expect(planAllows({ ...base, kind: 'ALWAYS_DENIED' }, me, r)).toBe(false);
    const conditional = {
      ...base,
      kind: 'CONDITIONAL' as const,
      ownerOnly: true,
      scopedResourceIds: ['1'],
    };
    expect(planAllows(conditional, me, r)).toBe(true);
    expect(planAllows(conditional, me, { id: '2', ownerId: me })).toBe(true);
    expect(planAllows(conditional, me, { id: '2', ownerId: '' })).toBe(false);
    expect(planAllows({ ...conditional, ownerOnly: false }, me, { id: '2', ownerId: me })).toBe(
      false,
    );
  });
});
