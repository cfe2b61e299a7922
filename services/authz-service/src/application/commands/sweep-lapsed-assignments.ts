import { roleRevoked } from '../../domain/index.js';
import type { AuthzRepository, Clock } from '../ports.js';

/**
 * Removes assignments past their expire_time and announces each (RoleRevoked, EXPIRED). Checks
 * already ignore them; this keeps the tables small and tells caches and other contexts.
 */
export class SweepLapsedAssignments {
  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly batchSize = 500,
  ) {}

  /** Sweeps until nothing lapsed is left; returns how many assignments it removed. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await this.sweepBatch();
      total += removed;
      if (removed < this.batchSize) return total;
    }
  }

  private async sweepBatch(): Promise<number> {
    const lapsed = await this.repository.expireDue(this.clock.now(), this.batchSize, (assignment) =>
      roleRevoked(assignment, 'EXPIRED', assignment.expireTime!),
    );
    return lapsed.length;
  }
}
