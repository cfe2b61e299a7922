import { authzRepositoryContract } from '../../../test/support/authz-repository-contract.js';
import { MemoryAuthzRepository } from './memory-authz-repository.js';

authzRepositoryContract('memory', async () => {
  const repository = new MemoryAuthzRepository();
  return {
    repository,
    outboxTypes: async () => repository.outbox.map((event) => `warden.authz.v1.${event.type}`),
  };
});
