import { TablePermissionChecker } from '@warden/bus';
import { describe, expect, it } from 'vitest';
import { aCallContext, aUser } from '../../test/support/mothers.js';
import { expectAppError } from '../../test/support/expect-app-error.js';
import { aTestApp } from '../../test/support/test-app.js';
import { METADATA_LIMITS } from '../domain/metadata.js';

const ADMIN = '0190c7a6-0000-7000-8000-00000000a001';
const PLAYER = '0190c7a6-0000-7000-8000-00000000b001';
const admin = aCallContext({ user: { userId: ADMIN, sessionId: 's-admin' } });
const player = aCallContext({ user: { userId: PLAYER, sessionId: 's-player' } });

async function setup() {
  const app = aTestApp({
    authorizer: new TablePermissionChecker({
      [ADMIN]: ['*'],
      [PLAYER]: ['user.read:own', 'user.update:own'],
    }),
  });
  const me = aUser({
    id: PLAYER,
    metadata: { 'public.nickname': 'ace', 'crm.segment': 'whale' },
    externalId: 'crm-1',
  });
  await app.given(me);
  const update = (input: Record<string, unknown>, ctx = admin) =>
    app.bus.run(
      app.useCases.updateUser,
      { userId: PLAYER, displayName: '', metadata: {}, updateMask: [], ...input },
      ctx,
    );
  const get = (ctx = admin) => app.bus.run(app.useCases.getUser, { userId: PLAYER }, ctx);
  const list = (input: Record<string, unknown>, ctx = admin) =>
    app.bus.run(
      app.useCases.listUsers,
      { pageSize: 10, pageToken: '', emailPrefix: '', ...input },
      ctx,
    );
  return { app, me, update, get, list };
}

describe('metadata and external_id', () => {
  it('shows the user only its public. keys; an admin sees all', async () => {
    const { get } = await setup();
    expect((await get(player)).metadata).toEqual({ 'public.nickname': 'ace' });
    expect((await get(player)).externalId).toBe('crm-1');
    expect((await get(admin)).metadata).toEqual({
      'public.nickname': 'ace',
      'crm.segment': 'whale',
    });
  });

  it('lets an admin replace the metadata and external id, with an event naming the fields only', async () => {
    const { app, update } = await setup();
    const user = await update({
      externalId: 'crm-2',
      metadata: { 'public.nickname': 'ace', plan: 'gold' },
      updateMask: ['external_id', 'metadata'],
    });
    expect(user).toMatchObject({
      externalId: 'crm-2',
      metadata: { 'public.nickname': 'ace', plan: 'gold' },
    });
    expect(app.users.eventsOfType('updated')).toEqual([
      {
        type: 'updated',
        userId: PLAYER,
        updateMask: ['external_id', 'metadata'],
        occurTime: app.clock.now(),
      },
    ]);
    expect(JSON.stringify(app.users.outbox)).not.toContain('gold');
    // The same values again: nothing changes, nothing is said.
    await update({
      externalId: 'crm-2',
      metadata: { plan: 'gold', 'public.nickname': 'ace' },
      updateMask: ['external_id', 'metadata'],
    });
    expect(app.users.eventsOfType('updated')).toHaveLength(1);
  });

  it('refuses the metadata paths to a user without user.manage_metadata, even on its own account', async () => {
    const { update } = await setup();
    const error = await expectAppError(
      update({ metadata: { 'public.nickname': 'me' }, updateMask: ['metadata'] }, player),
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
    );
    expect(error.metadata).toEqual({ permission: 'user.manage_metadata' });
    // Its display name it may change.
    await expect(
      update({ displayName: 'Ace', updateMask: ['display_name'] }, player),
    ).resolves.toMatchObject({
      displayName: 'Ace',
      metadata: { 'public.nickname': 'ace' },
    });
  });

  it('refuses oversized or malformed metadata with field violations', async () => {
    const { update } = await setup();
    const tooMany = Object.fromEntries(
      Array.from({ length: METADATA_LIMITS.maxEntries + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    for (const metadata of [
      tooMany,
      { k: 'v'.repeat(METADATA_LIMITS.maxValueLength + 1) },
      { ['k'.repeat(METADATA_LIMITS.maxKeyLength + 1)]: 'v' },
      { 'spaces are not allowed': 'v' },
    ]) {
      const error = await expectAppError(
        update({ metadata, updateMask: ['metadata'] }),
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
      );
      expect(error.violations[0]?.field).toMatch(/^metadata/);
    }
    const long = await expectAppError(
      update({
        externalId: 'x'.repeat(METADATA_LIMITS.maxExternalIdLength + 1),
        updateMask: ['external_id'],
      }),
      'INVALID_ARGUMENT',
    );
    expect(long.violations[0]?.field).toBe('external_id');
  });

  it('refuses an external id another user has: ALREADY_EXISTS EXTERNAL_ID_TAKEN', async () => {
    const { app, update } = await setup();
    await app.given(aUser({ externalId: 'crm-9' }));
    await expectAppError(
      update({ externalId: 'crm-9', updateMask: ['external_id'] }),
      'ALREADY_EXISTS',
      'EXTERNAL_ID_TAKEN',
    );
  });

  it('lists by external id and by metadata pairs, in keyset pages bound to the filters', async () => {
    const { app, list } = await setup();
    const gold = [
      aUser({ metadata: { plan: 'gold' } }),
      aUser({ metadata: { plan: 'gold', region: 'eu' } }),
      aUser({ metadata: { plan: 'gold' } }),
    ];
    await app.given(...gold, aUser({ metadata: { plan: 'free' } }), aUser({ externalId: 'crm-7' }));
    expect((await list({ externalId: 'crm-7' })).users.map((u) => u.externalId)).toEqual(['crm-7']);
    const first = await list({ metadata: { plan: 'gold' }, pageSize: 2 });
    const second = await list({
      metadata: { plan: 'gold' },
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect([...first.users, ...second.users].map((u) => u.id)).toEqual(gold.map((u) => u.id));
    expect(second.nextPageToken).toBe('');
    expect(
      (await list({ metadata: { plan: 'gold', region: 'eu' } })).users.map((u) => u.id),
    ).toEqual([gold[1]!.id]);
    await expectAppError(
      list({ metadata: { plan: 'free' }, pageSize: 2, pageToken: first.nextPageToken }),
      'INVALID_ARGUMENT',
      'INVALID_PAGE_TOKEN',
    );
    const tooManyPairs = Object.fromEntries(
      Array.from({ length: METADATA_LIMITS.maxFilterPairs + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    await expectAppError(list({ metadata: tooManyPairs }), 'INVALID_ARGUMENT');
  });

  it('lets only user.read_metadata holders filter on private keys', async () => {
    const { app, list } = await setup();
    const lister = '0190c7a6-0000-7000-8000-00000000c001';
    (app.authorizer as TablePermissionChecker).grant(lister, 'user.list');
    const ctx = aCallContext({ user: { userId: lister, sessionId: 's-lister' } });
    await expectAppError(list({ metadata: { 'crm.segment': 'whale' } }, ctx), 'PERMISSION_DENIED');
    const visible = await list({ metadata: { 'public.nickname': 'ace' } }, ctx);
    expect(visible.users.map((u) => u.metadata)).toEqual([{ 'public.nickname': 'ace' }]);
    expect((await list({ metadata: { 'crm.segment': 'whale' } })).users).toHaveLength(1);
  });
});
