import type { AssuranceLevel, Decision, PermissionChecker, ResourceRef } from '@warden/bus';
import { PolicyModel } from './policy-model.js';
import type { Clock, PolicySource } from './ports.js';
import type { Freshness, Settled } from './revisions.js';

/** The policy a read answers from, and the revision it reflects. */
export interface PolicyAt {
  readonly model: PolicyModel;
  readonly revision: number;
}

/**
 * Every policy read with its `min_revision`: answered from this process's model when that is new
 * enough (at once, or after a short wait for the events), else from a model read through to
 * Postgres for that one request, never from older state.
 */
export class FreshPolicy implements PermissionChecker {
  /** The shared model at the watermark: one object per revision, not one per check. */
  private current: PolicyAt;

  constructor(
    readonly model: PolicyModel,
    readonly freshness: Freshness,
    private readonly clock: Clock,
    private readonly source: Pick<PolicySource, 'allRoles' | 'assignmentsOf' | 'assignmentsOfMany'>,
  ) {
    this.current = { model, revision: freshness.watermark.revision };
  }

  /** See {@link Freshness.settle}: for reads that answer from state of their own (indexes). */
  settle(minRevision?: number): Settled | Promise<Settled> {
    return this.freshness.settle(minRevision);
  }

  /**
   * The model to answer from. `subjects`: how many subjects the read looks at, so a model read
   * through keeps each of them once.
   */
  at(minRevision?: number, subjects = 1): PolicyAt | Promise<PolicyAt> {
    const settled = this.freshness.settle(minRevision);
    if (!(settled instanceof Promise)) {
      if (this.current.revision !== settled.revision)
        this.current = { model: this.model, revision: settled.revision };
      return this.current;
    }
    return settled.then(async ({ revision, readThrough }) => ({
      model: readThrough
        ? await PolicyModel.readThrough(this.clock, this.source, Math.max(1, subjects))
        : this.model,
      revision,
    }));
  }

  /** The bus's authorizer inside authz-service: no network hop, `minRevision` honoured. */
  async check(
    subjectId: string,
    permission: string,
    resource: ResourceRef,
    assurance?: AssuranceLevel,
    minRevision?: number,
  ): Promise<Decision> {
    const { model } = await this.at(minRevision);
    return model.check(subjectId, permission, resource, assurance);
  }
}
