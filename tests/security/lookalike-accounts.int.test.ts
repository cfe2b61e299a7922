import { randomUUID } from 'node:crypto';
import type { AppError } from '@warden/errors';
import type { sessionv1, userv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Review finding 12: "josé" typed NFC and NFD, and bücher.de and xn--bcher-kva.de, became separate
 * accounts that look the same to a person; display names took bidi overrides and zero-width
 * characters, so "Admin" could be faked or text reordered in an admin console. Over the real
 * stack: every spelling names one account (registration refused, sign-in and lockout shared) and
 * such names are refused on RegisterUser and UpdateUser.
 */
const PASSWORD = 'correct horse battery';
let stack: Stack;
let adminToken: string;

beforeAll(async () => {
  stack = await startStack();
  adminToken = (await bootstrapAdmin(stack)).token;
}, 180_000);

afterAll(() => stack?.stop(), 60_000);

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a refusal');
}

const registerAs = (email: string, displayName = 'Jos\u00e9') =>
  call<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(stack.users, 'registerUser', {
    email,
    password: PASSWORD,
    displayName,
    requestId: randomUUID(),
  });

const signInAs = (email: string, password = PASSWORD) =>
  call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
    stack.sessions,
    'startSession',
    { email, password, client: { ipAddress: '127.0.0.1', userAgent: 'e2e' }, requestId: '' },
  );

describe('one account per email address, however it is spelled', () => {
  it('refuses the NFC, upper-case and punycode spellings of an NFD, Unicode-domain registration', async () => {
    const local = `jose\u0301-${randomUUID().slice(0, 8)}`;
    const nfd = `${local}@bu\u0308cher.de`;
    const registered = (await registerAs(nfd)).user!;
    const stored = `${local.normalize('NFC')}@xn--bcher-kva.de`;
    expect(registered.email).toBe(stored);
    for (const email of [
      `${local.normalize('NFC')}@bücher.de`,
      stored,
      `${local.normalize('NFC').toUpperCase()}@B\u00dcCHER.DE`,
    ]) {
      const error = await refusal(registerAs(email));
      expect([error.kind, error.reason], email).toEqual(['ALREADY_EXISTS', 'EMAIL_TAKEN']);
    }
    // Any spelling signs in to that one account.
    for (const email of [nfd, stored, `${local.normalize('NFC')}@bücher.de`]) {
      const { session } = await signInAs(email);
      expect(session?.userId, email).toBe(registered.id);
    }
  });

  it('counts failures of every spelling against one lockout', async () => {
    const local = `ren\u00e9e-${randomUUID().slice(0, 8)}`;
    await registerAs(`${local}@münchen.de`);
    const spellings = [
      `${local}@münchen.de`,
      `${local.normalize('NFD')}@xn--mnchen-3ya.de`,
      `${local}@MU\u0308NCHEN.de`,
    ];
    // Five failures (the default max_failures) spread over the spellings lock them all.
    for (let i = 0; i < 5; i++) {
      const error = await refusal(signInAs(spellings[i % 3]!, 'wrong password'));
      expect(error.reason).toBe('INVALID_CREDENTIALS');
    }
    for (const email of spellings) {
      const error = await refusal(signInAs(email));
      expect([error.kind, error.reason], email).toEqual(['RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED']);
    }
  });
});

describe('display names cannot hide or reorder text', () => {
  const FAKES = [
    'Admin\u202E',
    'Ad\u200Bmin',
    '\u2066Admin\u2069',
    'Support\u200D',
    'Admin\uFEFF(staff)',
  ];

  it('RegisterUser refuses them with a display_name violation and stores nothing', async () => {
    for (const displayName of FAKES) {
      const email = `${randomUUID()}@example.com`;
      const error = await refusal(registerAs(email, displayName));
      expect([error.kind, error.violations], JSON.stringify(displayName)).toEqual([
        'INVALID_ARGUMENT',
        [
          {
            field: 'display_name',
            description: 'must not contain invisible or text-direction characters',
          },
        ],
      ]);
      // The email is still free: nothing was stored.
      expect((await registerAs(email, 'Plain')).user?.email).toBe(email);
    }
  });

  it('UpdateUser refuses them too, and keeps names in NFC', async () => {
    const email = `${randomUUID()}@example.com`;
    const user = (await registerAs(email, 'Plain')).user!;
    for (const displayName of FAKES) {
      const error = await refusal(
        call(
          stack.users,
          'updateUser',
          { userId: user.id, displayName, updateMask: ['display_name'], metadata: {} },
          adminToken,
        ),
      );
      expect([error.kind, error.violations[0]?.field]).toEqual([
        'INVALID_ARGUMENT',
        'display_name',
      ]);
    }
    const updated = await call<userv1.UpdateUserRequest, userv1.UpdateUserResponse>(
      stack.users,
      'updateUser',
      { userId: user.id, displayName: 'Jose\u0301', updateMask: ['display_name'], metadata: {} },
      adminToken,
    );
    expect(updated.user?.displayName).toBe('Jos\u00e9');
  });
});
