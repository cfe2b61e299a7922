import type { CallContext } from '@warden/bus';
import { uuidv7 } from '@warden/events';
import type { RegisterUser } from '../../src/application/commands/register-user.js';
import type { User } from '../../src/domain/user.js';
import { fakeHashOf } from './fakes.js';

let sequence = 0;

export const CORRECT_PASSWORD = 'correct horse battery';
/** The MFA encryption key of tests (mfa.encryption_key in production comes from a Secret). */
export const TEST_MFA_KEY = 'test-mfa-key-0000000000000000000000000';

/** An active user whose password is CORRECT_PASSWORD under the FakePasswordHasher. */
export function aUser(overrides: Partial<User> = {}): User {
  sequence++;
  const time = new Date(Date.UTC(2026, 0, 1, 12, 0, sequence));
  return {
    id: uuidv7(),
    email: `user${sequence}@example.com`,
    displayName: `User ${sequence}`,
    passwordHash: fakeHashOf(CORRECT_PASSWORD),
    status: 'ACTIVE',
    createTime: time,
    updateTime: time,
    emailVerified: false,
    externalId: '',
    metadata: {},
    mfaEnabled: false,
    ...overrides,
  };
}

export const aRegisterUserCommand = (overrides: Partial<RegisterUser> = {}): RegisterUser => ({
  email: `new${++sequence}@example.com`,
  password: CORRECT_PASSWORD,
  displayName: 'Ada Lovelace',
  requestId: '',
  ...overrides,
});

/** A call from a service; pass `user` for a call on a signed-in user's behalf. */
export const aCallContext = (overrides: Partial<CallContext> = {}): CallContext => ({
  service: { name: 'gateway' },
  requestId: `req-${++sequence}`,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  ...overrides,
});

export const sessionServiceContext = (): CallContext =>
  aCallContext({ service: { name: 'session-service' } });
