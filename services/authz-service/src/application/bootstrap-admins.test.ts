import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryAuthzRepository } from '../adapters/memory/memory-authz-repository.js';
import { FakeUserLookup } from '../../test/support/fake-user-lookup.js';
import { aUserId } from '../../test/support/mothers.js';
import { BootstrapAdmins, bootstrapEntries } from './bootstrap-admins.js';
import { GiveDefaultRolesHandler } from './commands/give-default-roles.js';
import { PromoteExistingAdmins } from './commands/promote-existing-admins.js';

describe('bootstrapEntries', () => {
  it('keys user ids by id and emails by a SHA-256 of the normalized address, once each', () => {
    const id = aUserId();
    const sha = createHash('sha256').update('ops@example.com').digest('hex');
    expect(bootstrapEntries([id.toUpperCase(), ' Ops@Example.com', 'ops@example.com'])).toEqual([
      { kind: 'user', userId: id, key: `user:${id}` },
      { kind: 'email', email: 'ops@example.com', key: `email-sha256:${sha}` },
    ]);
  });

  it('normalizes emails as user-service stores them: NFC, lower case, punycode domain', () => {
    const stored = 'jos\u00e9@xn--bcher-kva.de';
    const sha = createHash('sha256').update(stored).digest('hex');
    expect(bootstrapEntries(['JOSE\u0301@Bu\u0308cher.de', 'jos\u00e9@bücher.de', stored])).toEqual(
      [{ kind: 'email', email: stored, key: `email-sha256:${sha}` }],
    );
  });
});

describe('BootstrapAdmins', () => {
  it('asks user-service only while an email entry is ungranted', async () => {
    const repository = new MemoryAuthzRepository();
    const userId = aUserId();
    const lookup = new FakeUserLookup({ 'ops@example.com': userId });
    const [entry] = bootstrapEntries(['ops@example.com']);
    const admins = new BootstrapAdmins([entry!], repository, lookup);
    expect(await admins.entryFor(aUserId())).toBeUndefined();
    expect(await admins.entryFor(userId)).toBe(entry!.key);
    admins.markGranted(entry!.key);
    expect(await admins.entryFor(userId)).toBeUndefined();
    expect(lookup.asked).toHaveLength(2);
  });

  it('matches a listed id without asking, and starts from the grants recorded', async () => {
    const repository = new MemoryAuthzRepository();
    const granted = aUserId();
    const listed = aUserId();
    const grant = { entry: `user:${granted}`, subjectId: granted, grantTime: new Date() };
    await repository.updateSubject(granted, () => ({ events: [], result: undefined }), {
      claim: grant,
    });
    const lookup = new FakeUserLookup();
    const admins = new BootstrapAdmins(bootstrapEntries([granted, listed]), repository, lookup);
    expect(await admins.entryFor(granted)).toBeUndefined();
    expect(await admins.entryFor(listed)).toBe(`user:${listed}`);
    expect(lookup.asked).toEqual([]);
  });
});

describe('bootstrap admins by email need the email verified', () => {
  const receipt = (eventId: string) => ({ consumer: 'authz-user-events', eventId });
  function setUp(options: { requireVerifiedEmail?: boolean } = {}) {
    const repository = new MemoryAuthzRepository();
    const lookup = new FakeUserLookup();
    const bootstrap = new BootstrapAdmins(
      bootstrapEntries(['ops@example.com']),
      repository,
      lookup,
      options,
    );
    const clock = { now: () => new Date('2026-11-30T12:00:00Z') };
    const give = new GiveDefaultRolesHandler(
      repository,
      clock,
      { defaultRole: 'player' },
      bootstrap,
    );
    const rolesOf = async (userId: string) =>
      (await repository.assignmentsOf(userId)).map((a) => a.role).sort();
    return { repository, lookup, bootstrap, give, clock, rolesOf };
  }

  it('gives whoever registered the address first no admin until they verify it', async () => {
    const { lookup, give, rolesOf } = setUp();
    const squatter = aUserId();
    lookup.set('ops@example.com', squatter, false);
    await give.execute({ userId: squatter, inbox: receipt('registered-1') });
    expect(await rolesOf(squatter)).toEqual(['player']);
    // No code reaches them (it goes to the address's owner): no verification, no admin.
    expect(await give.afterEmailVerified({ userId: aUserId() })).toEqual([]);
    expect(await rolesOf(squatter)).toEqual(['player']);
  });

  it('grants admin when the email_verified event comes, once however often it is delivered', async () => {
    const { lookup, give, rolesOf, repository } = setUp();
    const owner = aUserId();
    lookup.set('ops@example.com', owner, false);
    await give.execute({ userId: owner, inbox: receipt('registered-2') });
    lookup.set('ops@example.com', owner, true);
    const granted = await give.afterEmailVerified({ userId: owner });
    expect(granted.map((e) => e.type)).toEqual(['role_assigned']);
    expect(await rolesOf(owner)).toEqual(['admin', 'player']);
    expect(await give.afterEmailVerified({ userId: owner })).toEqual([]);
    expect(await repository.bootstrapGrants()).toHaveLength(1);
  });

  it('grants at registration a user imported with the email verified', async () => {
    const { lookup, give, rolesOf } = setUp();
    const imported = aUserId();
    lookup.set('ops@example.com', imported, true);
    await give.execute({ userId: imported, inbox: receipt('registered-3') });
    expect(await rolesOf(imported)).toEqual(['admin', 'player']);
  });

  it('promotes at worker start only an existing user whose email is verified', async () => {
    const { lookup, bootstrap, repository, clock, rolesOf } = setUp();
    const owner = aUserId();
    lookup.set('ops@example.com', owner, false);
    expect(await new PromoteExistingAdmins(repository, bootstrap, clock).run()).toEqual([]);
    lookup.set('ops@example.com', owner, true);
    expect(await new PromoteExistingAdmins(repository, bootstrap, clock).run()).toEqual([owner]);
    expect(await rolesOf(owner)).toEqual(['admin']);
  });

  it('with authz.bootstrap_requires_verified_email false (dev), grants the first registrant', async () => {
    const { lookup, give, rolesOf } = setUp({ requireVerifiedEmail: false });
    const first = aUserId();
    lookup.set('ops@example.com', first, false);
    await give.execute({ userId: first, inbox: receipt('registered-4') });
    expect(await rolesOf(first)).toEqual(['admin', 'player']);
  });

  it('refuses an email_verified event naming no user id', async () => {
    const { give } = setUp();
    await expect(give.afterEmailVerified({ userId: 'not-a-user' })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
    });
  });
});
