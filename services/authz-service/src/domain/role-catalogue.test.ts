import { describe, expect, it } from 'vitest';
import { aRole, T0 } from '../../test/support/mothers.js';
import { builtInRoles } from './role.js';
import { RoleCatalogue } from './role-catalogue.js';

const catalogue = (...roles: ReturnType<typeof aRole>[]) =>
  new RoleCatalogue([...builtInRoles(T0), ...roles]);

describe('RoleCatalogue', () => {
  it('flattens inheritance: player has guest grants too, naming where each comes from', () => {
    const roles = catalogue();
    expect(roles.closure('player')).toEqual(['guest', 'player']);
    expect(roles.grantsOf('player')!.grants).toContain('user.read:own');
    expect(roles.grantsOf('guest')!.grants).toEqual(['user.read:own']);
  });

  it('follows inheritance transitively', () => {
    const roles = catalogue(
      aRole({ name: 'captain', permissions: ['team.manage'], inherits: ['player'] }),
      aRole({ name: 'coach', permissions: ['team.train'], inherits: ['captain'] }),
    );
    expect(roles.closure('coach')).toEqual(['captain', 'coach', 'guest', 'player']);
    expect(roles.grantsOf('coach')!.match('team.manage').unscoped).toEqual({
      grant: 'team.manage',
      role: 'captain',
    });
    expect(roles.grantsOf('coach')!.match('user.read').own).toEqual({
      grant: 'user.read:own',
      role: 'player',
    });
  });

  it('refuses a role inheriting one that does not exist', () => {
    expect(() => catalogue().assertInheritable(aRole({ inherits: ['ghost'] }))).toThrow(
      expect.objectContaining({ kind: 'NOT_FOUND', reason: 'ROLE_NOT_FOUND' }),
    );
  });

  it('refuses an inheritance cycle, naming its path', () => {
    const roles = catalogue(
      aRole({ name: 'a', inherits: ['b'] }),
      aRole({ name: 'b', inherits: ['c'] }),
      aRole({ name: 'c' }),
    );
    const closingTheLoop = aRole({ name: 'c', inherits: ['a'] });
    expect(() => roles.assertInheritable(closingTheLoop)).toThrow(
      expect.objectContaining({
        kind: 'FAILED_PRECONDITION',
        reason: 'ROLE_CYCLE',
        message: expect.stringContaining('c -> a -> b -> c'),
      }),
    );
  });

  it('calls inheriting itself a cycle', () => {
    expect(() =>
      catalogue().assertInheritable(aRole({ name: 'loop', inherits: ['loop'] })),
    ).toThrow(
      expect.objectContaining({
        reason: 'ROLE_CYCLE',
        message: expect.stringContaining('loop -> loop'),
      }),
    );
  });

  it('accepts a diamond, which is no cycle', () => {
    const roles = catalogue(
      aRole({ name: 'left', inherits: ['guest'] }),
      aRole({ name: 'right', inherits: ['guest'] }),
    );
    expect(() =>
      roles.assertInheritable(aRole({ name: 'top', inherits: ['left', 'right'] })),
    ).not.toThrow();
  });

  it('refuses to delete a role others inherit', () => {
    expect(() => catalogue().assertNotInherited('guest')).toThrow(
      expect.objectContaining({ reason: 'ROLE_IN_USE' }),
    );
    expect(() => catalogue().assertNotInherited('player')).not.toThrow();
  });

  it('does not loop on a cycle that reached it from outside', () => {
    const roles = new RoleCatalogue([
      aRole({ name: 'a', inherits: ['b'] }),
      aRole({ name: 'b', inherits: ['a'] }),
    ]);
    expect(roles.closure('a')).toEqual(['a', 'b']);
    expect(roles.grantsOf('a')!.grants).toEqual(['chat.mute', 'session.read']);
  });

  it('gives new catalogues on change and leaves the old one as it was', () => {
    const before = catalogue();
    const after = before.with(aRole({ name: 'extra' })).without('guest');
    expect(before.has('guest')).toBe(true);
    expect(after.has('guest')).toBe(false);
    expect(after.has('extra')).toBe(true);
    expect(after.list().map((r) => r.name)).toEqual(['admin', 'extra', 'player']);
  });
});
