import { describe, expect, it } from 'vitest';
import {
  aCallContext,
  aRegisterUserCommand,
  aUser,
  CORRECT_PASSWORD,
  sessionServiceContext,
} from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aTestApp } from '../../../test/support/test-app.js';

// One account per address however it is spelled, and no name that hides or reorders text.
const NFC = 'jos\u00e9@bücher.de';
const NFD = 'jose\u0301@bu\u0308cher.de';
const STORED = 'jos\u00e9@xn--bcher-kva.de';

describe('emails across spellings', () => {
  it('RegisterUser stores the NFC, punycode form and refuses the other spellings as taken', async () => {
    const app = aTestApp();
    const user = await app.bus.run(
      app.useCases.registerUser,
      aRegisterUserCommand({ email: NFD }),
      aCallContext(),
    );
    expect(user.email).toBe(STORED);
    for (const email of [NFC, STORED, 'JOSE\u0301@XN--BCHER-KVA.DE'])
      await expectAppError(
        app.bus.run(app.useCases.registerUser, aRegisterUserCommand({ email }), aCallContext()),
        'ALREADY_EXISTS',
        'EMAIL_TAKEN',
      );
  });

  it('VerifyCredentials finds the user by any spelling, and one lockout counts them all', async () => {
    const app = aTestApp();
    const user = aUser({ email: STORED });
    await app.given(user);
    for (const email of [NFC, NFD, STORED])
      await expect(
        app.bus.run(
          app.useCases.verifyCredentials,
          { email, password: CORRECT_PASSWORD },
          sessionServiceContext(),
        ),
      ).resolves.toEqual({ userId: user.id, status: 'ACTIVE', mfaEnabled: false });
    const spellings = [NFC, NFD, STORED, 'JOS\u00c9@B\u00dcCHER.DE', NFC];
    for (const email of spellings)
      await expectAppError(
        app.bus.run(
          app.useCases.verifyCredentials,
          { email, password: 'wrong password' },
          sessionServiceContext(),
        ),
        'UNAUTHENTICATED',
        'INVALID_CREDENTIALS',
      );
    await expectAppError(
      app.bus.run(
        app.useCases.verifyCredentials,
        { email: NFD, password: CORRECT_PASSWORD },
        sessionServiceContext(),
      ),
      'RESOURCE_EXHAUSTED',
      'ACCOUNT_LOCKED',
    );
  });

  it('RegisterUser refuses invisible characters in the local part with a violation on email', async () => {
    const app = aTestApp();
    const error = await expectAppError(
      app.bus.run(
        app.useCases.registerUser,
        aRegisterUserCommand({ email: 'ad\u200ba@example.com' }),
        aCallContext(),
      ),
      'INVALID_ARGUMENT',
    );
    expect(error.violations.map((v) => v.field)).toEqual(['email']);
  });
});

describe('display names', () => {
  it('RegisterUser refuses a bidi override with a violation on display_name', async () => {
    const app = aTestApp();
    const error = await expectAppError(
      app.bus.run(
        app.useCases.registerUser,
        aRegisterUserCommand({ displayName: 'Admin\u202Enimda' }),
        aCallContext(),
      ),
      'INVALID_ARGUMENT',
    );
    expect(error.violations).toEqual([
      {
        field: 'display_name',
        description: 'must not contain invisible or text-direction characters',
      },
    ]);
    expect(app.users.eventsOfType('registered')).toHaveLength(0);
  });

  it('UpdateUser refuses zero-width and isolate characters, and stores names in NFC', async () => {
    const app = aTestApp();
    const user = aUser({ displayName: 'Old Name' });
    await app.given(user);
    const update = (displayName: string) =>
      app.bus.run(
        app.useCases.updateUser,
        { userId: user.id, displayName, updateMask: ['display_name'] },
        aCallContext(),
      );
    for (const name of ['Ad\u200Ba', '\u2066Ada\u2069', 'Ada\uFEFFx']) {
      const error = await expectAppError(update(name), 'INVALID_ARGUMENT');
      expect(error.violations[0]?.field).toBe('display_name');
    }
    expect((await update('Jose\u0301')).displayName).toBe('Jos\u00e9');
  });
});
