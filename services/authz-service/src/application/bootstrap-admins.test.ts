import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryAuthzRepository } from '../adapters/memory/memory-authz-repository.js';
import { FakeUserLookup } from '../../test/support/fake-user-lookup.js';
import { aUserId } from '../../test/support/mothers.js';
import { BootstrapAdmins, bootstrapEntries } from './bootstrap-admins.js';

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
