import { MemoryAuthzRepository } from '../../src/adapters/memory/memory-authz-repository.js';
import { createAuthzApp } from '../../src/app.js';
import { newAssignment } from '../../src/domain/index.js';
import { aServiceCall, aUserCall, aUserId, FakeClock, silentLogger } from './mothers.js';
import { seed } from './seed.js';

/** The application on memory adapters and a fake clock, with an admin and a player ready. */
export async function anAuthzApp() {
  const clock = new FakeClock();
  const repository = new MemoryAuthzRepository();
  const app = createAuthzApp({ repository, clock, logger: silentLogger });
  const adminId = aUserId();
  const playerId = aUserId();
  await seed(repository, {
    assignments: [
      newAssignment({ subjectId: adminId, role: 'admin' }, clock.now()),
      newAssignment({ subjectId: playerId, role: 'player' }, clock.now()),
    ],
  });
  await app.sync.loadCatalogue();
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
