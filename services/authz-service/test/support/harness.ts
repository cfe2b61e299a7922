import { MemoryAuthzRepository } from '../../src/adapters/memory/memory-authz-repository.js';
import { createAuthzApp } from '../../src/app.js';
import type { SessionDirectory } from '../../src/application/ports.js';
import { newAssignment } from '../../src/domain/index.js';
import { aServiceCall, aUserCall, aUserId, FakeClock, silentLogger } from './mothers.js';
import { seed } from './seed.js';

/** The application on memory adapters and a fake clock, with an admin and a player ready. */
export async function anAuthzApp(
  options: { sessions?: SessionDirectory; maxBoundGrantTtlMs?: number } = {},
) {
  const clock = new FakeClock();
  const repository = new MemoryAuthzRepository();
  const app = createAuthzApp({ repository, clock, logger: silentLogger, ...options });
  const adminId = aUserId();
  const playerId = aUserId();
  await seed(repository, {
    assignments: [
      newAssignment({ subjectId: adminId, role: 'admin' }, clock.now()),
      newAssignment({ subjectId: playerId, role: 'player' }, clock.now()),
    ],
  });
  // As main does: the catalogue, and the revision the policy model starts at.
  await app.sync.resync();
  const outboxBefore = repository.outbox.length;
  return {
    ...app,
    clock,
    repository,
    adminId,
    playerId,
    asAdmin: aUserCall(adminId),
    asPlayer: aUserCall(playerId),
    asService: aServiceCall(),
    /** Events committed since the harness was built. */
    newEvents: () => repository.outbox.slice(outboxBefore),
  };
}

export type AuthzHarness = Awaited<ReturnType<typeof anAuthzApp>>;
