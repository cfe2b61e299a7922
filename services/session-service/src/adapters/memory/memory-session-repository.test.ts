import { sessionRepositoryContract } from '../../../test/support/session-repository-contract.js';
import { MemoryMfaChallengeStore } from './memory-mfa-challenge-store.js';
import { MemorySessionRepository } from './memory-session-repository.js';

sessionRepositoryContract('memory', async () => {
  const challenges = new MemoryMfaChallengeStore();
  const sessions = new MemorySessionRepository(challenges);
  return {
    sessions,
    challenges,
    events: async () => sessions.events.map((e) => ({ kind: e.kind, sessionId: e.session.id })),
  };
});
