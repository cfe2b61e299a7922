import { authzRepositoryContract } from '../../../test/support/authz-repository-contract.js';
import { scopedAssignmentsContract } from '../../../test/support/scoped-assignments-contract.js';
import { MemoryAuthzRepository } from './memory-authz-repository.js';

const fresh = async () => {
  const repository = new MemoryAuthzRepository();
  return {
    repository,
    outboxTypes: async () => repository.outbox.map((event) => `warden.authz.v1.${event.type}`),
  };
};
authzRepositoryContract('memory', fresh);
scopedAssignmentsContract('memory', fresh);
