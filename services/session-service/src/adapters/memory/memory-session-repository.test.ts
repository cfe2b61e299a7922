import { sessionRepositoryContract } from '../../../test/support/session-repository-contract.js';
import { MemorySessionRepository } from './memory-session-repository.js';

sessionRepositoryContract('memory', async () => {
  const sessions = new MemorySessionRepository();
  return {
    sessions,
    events: async () => sessions.events.map((e) => ({ kind: e.kind, sessionId: e.session.id })),
  };
});
