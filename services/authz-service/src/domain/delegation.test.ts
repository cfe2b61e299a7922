import { describe, expect, it } from 'vitest';
import { aRole, T0 } from '../../test/support/mothers.js';
import { covers, rolesGrantingEverything, uncoveredGrants } from './delegation.js';
import { builtInRoles } from './role.js';
import { RoleCatalogue } from './role-catalogue.js';

describe('covers: does a held grant allow everything a wanted grant allows', () => {
  it.each([
    ['*', '*'],
    ['*', 'user.*'],
    ['*', 'user.delete'],
    ['*', 'user.read:own'],
    ['*', '*:own'],
    ['*:own', 'user.read:own'],
    ['*:own', 'user.*:own'],
    ['*:own', '*:own'],
    ['user.*', 'user.*'],
    ['user.*', 'user.delete'],
    ['user.*', 'user.read:own'],
    ['user.*', 'user.*:own'],
    ['user.*:own', 'user.read:own'],
    ['user.read', 'user.read'],
    ['user.read', 'user.read:own'],
    ['user.read:own', 'user.read:own'],
  ])('%s covers %s', (held, wanted) => expect(covers(held, wanted)).toBe(true));

  it.each([
    ['user.*', '*'],
    ['user.*', '*:own'],
    ['user.*', 'session.end'],
    ['user.read', 'user.*'],
    ['user.read', 'user.delete'],
    ['user.read', '*'],
    ['user.read:own', 'user.read'],
    ['user.*:own', 'user.read'],
    ['user.*:own', 'user.*'],
    ['*:own', 'user.read'],
    ['*:own', '*'],
    ['session.end', 'session_x.end'],
  ])('%s does not cover %s', (held, wanted) => expect(covers(held, wanted)).toBe(false));
});

describe('uncoveredGrants', () => {
  it('lists what no held grant covers, in the order given', () => {
    expect(
      uncoveredGrants(
        ['user.*', 'session.end:own'],
        ['user.read', '*', 'session.end:own', 'session.end', 'user.disable'],
      ),
    ).toEqual(['*', 'session.end']);
  });

  it('finds nothing missing for a holder of *, and everything for a holder of nothing', () => {
    expect(uncoveredGrants(['*'], ['*', 'role.assign', 'user.read:own'])).toEqual([]);
    expect(uncoveredGrants([], ['game.join'])).toEqual(['game.join']);
    expect(uncoveredGrants([], [])).toEqual([]);
  });
});

describe('rolesGrantingEverything', () => {
  it('names admin and every role that inherits *, directly or not', () => {
    const catalogue = new RoleCatalogue([
      ...builtInRoles(T0),
      aRole({ name: 'root', permissions: ['*'] }),
      aRole({ name: 'deputy', permissions: ['game.join'], inherits: ['admin'] }),
      aRole({ name: 'deputy-deputy', permissions: [], inherits: ['deputy'] }),
      aRole({ name: 'self-only', permissions: ['*:own'] }),
      aRole({ name: 'user-admin', permissions: ['user.*'] }),
    ]);
    expect(rolesGrantingEverything(catalogue)).toEqual([
      'admin',
      'deputy',
      'deputy-deputy',
      'root',
    ]);
  });
});
