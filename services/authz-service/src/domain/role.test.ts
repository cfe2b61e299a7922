import { describe, expect, it } from 'vitest';
import { aRole, T0 } from '../../test/support/mothers.js';
import { assertDeletable, builtInRoles, changeRole, newRole } from './role.js';

const later = new Date(T0.getTime() + 1000);

describe('newRole', () => {
  it('sorts and deduplicates grants and inherited roles', () => {
    const role = newRole(
      {
        name: 'ops',
        description: '',
        permissions: ['b.x', 'a.y', 'b.x'],
        inherits: ['player', 'guest', 'player'],
      },
      T0,
    );
    expect(role.permissions).toEqual(['a.y', 'b.x']);
    expect(role.inherits).toEqual(['guest', 'player']);
    expect(role.builtIn).toBe(false);
  });

  it('reports every bad field by its proto path', () => {
    const attempt = () =>
      newRole(
        {
          name: 'Bad Name',
          description: 'x'.repeat(501),
          permissions: ['ok.read', 'NOPE'],
          inherits: ['also bad'],
        },
        T0,
      );
    expect(attempt).toThrow(
      expect.objectContaining({
        kind: 'INVALID_ARGUMENT',
        violations: [
          { field: 'role.name', description: expect.any(String) },
          { field: 'role.description', description: 'at most 500 characters' },
          { field: 'role.permissions[1]', description: expect.any(String) },
          { field: 'role.inherits[0]', description: expect.any(String) },
        ],
      }),
    );
  });
});

describe('changeRole', () => {
  it('reports only the fields that changed', () => {
    const { role, changed } = changeRole(
      aRole(),
      { description: 'new', permissions: ['session.read', 'chat.mute'] },
      later,
    );
    expect(changed).toEqual(['description']);
    expect(role.updateTime).toEqual(later);
  });

  it('returns the same role when nothing changed', () => {
    const before = aRole();
    expect(changeRole(before, { inherits: [] }, later)).toEqual({ role: before, changed: [] });
  });

  it('keeps * on admin', () => {
    const admin = builtInRoles(T0).find((r) => r.name === 'admin')!;
    expect(() => changeRole(admin, { permissions: ['user.read'] }, later)).toThrow(
      expect.objectContaining({ reason: 'BUILT_IN_ROLE' }),
    );
    expect(changeRole(admin, { permissions: ['*', 'user.read'] }, later).changed).toEqual([
      'permissions',
    ]);
  });
});

describe('assertDeletable', () => {
  it('refuses built-in roles', () => {
    for (const role of builtInRoles(T0))
      expect(() => assertDeletable(role)).toThrow(
        expect.objectContaining({ reason: 'BUILT_IN_ROLE' }),
      );
    expect(() => assertDeletable(aRole())).not.toThrow();
  });
});
