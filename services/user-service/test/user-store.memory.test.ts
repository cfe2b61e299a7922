import { MemoryIdempotencyStore } from '@warden/bus';
import { composedSignInLookup } from '../src/application/credential-guard.js';
import { MemoryLoginFailureStore } from '../src/adapters/memory/memory-login-failure-store.js';
import { MemoryUserRepository } from '../src/adapters/memory/memory-user-repository.js';
import { MemoryOneTimeCodeStore } from '../src/adapters/memory/memory-one-time-code-store.js';
import { describeAccountLifecycleContract } from './contracts/account-lifecycle.contract.js';
import { describeUserStoreContract } from './contracts/user-store.contract.js';

describeUserStoreContract('memory', async () => {
  const loginFailures = new MemoryLoginFailureStore();
  const idempotency = new MemoryIdempotencyStore();
  const users = new MemoryUserRepository(loginFailures, idempotency);
  return {
    users,
    directory: users,
    loginFailures,
    signIns: composedSignInLookup(loginFailures, users),
    idempotency,
    recordedEvents: async () =>
      users.outbox.map(({ event }) => ({ type: event.type, userId: event.userId })),
  };
});

describeAccountLifecycleContract('memory', async () => {
  const users = new MemoryUserRepository(new MemoryLoginFailureStore());
  return {
    users,
    directory: users,
    codes: new MemoryOneTimeCodeStore(users),
    recordedEvents: async () =>
      users.outbox.map(({ event }) => ({ type: event.type, userId: event.userId })),
  };
});
