import { describe, expect, it } from 'vitest';
import { TablePermissionChecker } from '@warden/bus';
import { aCallContext, aUser } from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aTestApp } from '../../../test/support/test-app.js';
import type { User } from '../../domain/user.js';
import type { ListUsers } from './list-users.js';

async function withUsers(count: number, make: (i: number) => Partial<User> = () => ({})) {
  const app = aTestApp();
  const users = Array.from({ length: count }, (_, i) => aUser(make(i)));
  await app.given(...users);
  const list = (query: Partial<ListUsers>) =>
    app.bus.run(
      app.useCases.listUsers,
      { pageSize: 0, pageToken: '', emailPrefix: '', ...query },
      aCallContext(),
    );
  return { app, users, list };
}

describe('ListUsers', () => {
  it('pages through every user in registration order with opaque tokens', async () => {
    const { users, list } = await withUsers(5);
    const first = await list({ pageSize: 2 });
    const second = await list({ pageSize: 2, pageToken: first.nextPageToken });
    const third = await list({ pageSize: 2, pageToken: second.nextPageToken });
    expect([...first.users, ...second.users, ...third.users].map((u) => u.id)).toEqual(
      users.map((u) => u.id),
    );
    expect(third.nextPageToken).toBe('');
    expect(first.users[0]).not.toHaveProperty('passwordHash');
  });

  it('defaults to 50 and caps at 500 per page', async () => {
    const { list } = await withUsers(501);
    expect((await list({})).users).toHaveLength(50);
    const capped = await list({ pageSize: 10_000 });
    expect(capped.users).toHaveLength(500);
    expect(capped.nextPageToken).not.toBe('');
  });

  it('stays stable when users register between pages', async () => {
    const { app, users, list } = await withUsers(3);
    const first = await list({ pageSize: 2 });
    const late = aUser({ createTime: new Date('2030-01-01T00:00:00Z') });
    await app.given(late);
    const rest = await list({ pageSize: 10, pageToken: first.nextPageToken });
    expect(rest.users.map((u) => u.id)).toEqual([users[2]!.id, late.id]);
  });

  it('filters by normalized email prefix and by status', async () => {
    const { list } = await withUsers(6, (i) => ({
      email: `${i % 2 ? 'team' : 'solo'}${i}@example.com`,
      status: i < 3 ? 'ACTIVE' : 'DISABLED',
    }));
    const team = await list({ emailPrefix: '  TEAM ' });
    expect(team.users.map((u) => u.email)).toEqual([
      'team1@example.com',
      'team3@example.com',
      'team5@example.com',
    ]);
    const disabledTeam = await list({ emailPrefix: 'team', status: 'DISABLED' });
    expect(disabledTeam.users.map((u) => u.email)).toEqual([
      'team3@example.com',
      'team5@example.com',
    ]);
  });

  it('refuses a token that is not one of ours, or was issued for other filters: INVALID_PAGE_TOKEN', async () => {
    const { list } = await withUsers(3);
    const page = await list({ pageSize: 1, emailPrefix: 'user' });
    for (const pageToken of [
      'garbage',
      Buffer.from('[1,2,3]').toString('base64url'),
      'x'.repeat(5000),
    ]) {
      const error = await expectAppError(
        list({ pageToken }),
        'INVALID_ARGUMENT',
        'INVALID_PAGE_TOKEN',
      );
      expect(error.violations[0]?.field).toBe('page_token');
    }
    await expectAppError(
      list({ pageToken: page.nextPageToken, emailPrefix: 'other' }),
      'INVALID_ARGUMENT',
      'INVALID_PAGE_TOKEN',
    );
    await expectAppError(
      list({ pageToken: page.nextPageToken, emailPrefix: 'user', status: 'ACTIVE' }),
      'INVALID_ARGUMENT',
      'INVALID_PAGE_TOKEN',
    );
  });

  it('refuses a negative page size and an over-long prefix', async () => {
    const { list } = await withUsers(0);
    expect(
      (await expectAppError(list({ pageSize: -1 }), 'INVALID_ARGUMENT')).violations[0]?.field,
    ).toBe('page_size');
    expect(
      (await expectAppError(list({ emailPrefix: 'a'.repeat(300) }), 'INVALID_ARGUMENT'))
        .violations[0]?.field,
    ).toBe('email_prefix');
  });

  it('checks user.list on {type: user}', async () => {
    const authorizer = new TablePermissionChecker({ 'service:gateway': ['user.list'] });
    const app = aTestApp({ authorizer });
    await app.bus.run(
      app.useCases.listUsers,
      { pageSize: 0, pageToken: '', emailPrefix: '' },
      aCallContext(),
    );
    expect(authorizer.asked).toEqual([
      { subjectId: 'service:gateway', permission: 'user.list', resource: { type: 'user' } },
    ]);
  });
});
