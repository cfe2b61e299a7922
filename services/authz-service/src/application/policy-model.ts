import type { AssuranceLevel, PermissionChecker, ResourceRef as BusResourceRef } from '@warden/bus';
import {
  decide,
  effectiveAccess,
  RoleCatalogue,
  scopedAccess,
  type Decision,
  type EffectiveAccess,
  type ScopedAccess,
  type Scope,
  type HeldRole,
  type ResourceRef,
  type RoleAssignment,
} from '../domain/index.js';
import { policyUnavailable } from '../errors.js';
import type { Clock, GrantsHeld, PolicySource } from './ports.js';
import { SubjectCache, type SubjectCacheStats } from './subject-cache.js';

/** `authz.subject_cache_max`'s default: subjects whose assignments one process keeps. */
export const DEFAULT_SUBJECT_CACHE_MAX = 100_000;

export interface PolicyModelOptions {
  /**
   * Reads one subject's assignments when it is not cached; with `assignmentsOfMany`, the misses
   * of one turn of the event loop (a CheckPermissions batch) are read together.
   */
  source: Pick<PolicySource, 'assignmentsOf' | 'assignmentsOfMany'>;
  /** At most this many subjects' assignments in memory (authz.subject_cache_max). */
  maxSubjects?: number;
}

/**
 * The policy every check is answered from: the whole role catalogue (permissions flattened over
 * inheritance) and the assignments of the subjects asked about lately, in a bounded LRU filled by
 * one read per subject. A warm check touches no database and stays synchronous; a cold one reads
 * the subject once. PolicySync keeps both current from authz events.
 */
export class PolicyModel implements PermissionChecker, GrantsHeld {
  private catalogue = new RoleCatalogue([]);
  private readonly subjects: SubjectCache;
  /** The one list `[{ role }]` every subject holding just that role, for good, shares. */
  private readonly permanentOnly = new Map<string, readonly HeldRole[]>();

  constructor(
    private readonly clock: Clock,
    options: PolicyModelOptions,
  ) {
    const { source } = options;
    const read = source.assignmentsOfMany
      ? batchedReader(source.assignmentsOf.bind(source), source.assignmentsOfMany.bind(source))
      : source.assignmentsOf.bind(source);
    this.subjects = new SubjectCache(
      options.maxSubjects ?? DEFAULT_SUBJECT_CACHE_MAX,
      async (subjectId) => {
        try {
          return this.compact(await read(subjectId));
        } catch (error) {
          throw policyUnavailable(error);
        }
      },
    );
  }

  /**
   * A model read through to `source` for one request: the catalogue as it is now, and each subject
   * at its first look. Nothing of it is shared or kept; PolicySync never touches it.
   */
  static async readThrough(
    clock: Clock,
    source: Pick<PolicySource, 'allRoles' | 'assignmentsOf' | 'assignmentsOfMany'>,
    maxSubjects: number,
  ): Promise<PolicyModel> {
    let roles;
    try {
      roles = await source.allRoles();
    } catch (error) {
      throw policyUnavailable(error);
    }
    const model = new PolicyModel(clock, { source, maxSubjects });
    model.replaceCatalogue(new RoleCatalogue(roles));
    return model;
  }

  get roles(): RoleCatalogue {
    return this.catalogue;
  }

  /** Subjects cached now, and the cache's hits, misses and evictions so far (for metrics). */
  get cache(): { size: number; max: number; stats: Readonly<SubjectCacheStats> } {
    return {
      size: this.subjects.size,
      max: this.subjects.maxSubjects,
      stats: this.subjects.stats,
    };
  }

  /** Synchronous when the subject is cached; else after its one read. */
  decide(
    subjectId: string,
    permission: string,
    resource?: ResourceRef,
    aal2 = false,
  ): Decision | Promise<Decision> {
    const held = this.subjects.peek(subjectId);
    if (held !== undefined) return this.decideOn(held, subjectId, permission, resource, aal2);
    return this.subjects
      .fetch(subjectId)
      .then((loaded) => this.decideOn(loaded, subjectId, permission, resource, aal2));
  }

  /** The bus's authorizer inside authz-service itself: no network hop. */
  async check(
    subjectId: string,
    permission: string,
    resource: BusResourceRef,
    assurance?: AssuranceLevel,
  ): Promise<Decision> {
    return this.decide(subjectId, permission, resource, assurance === 'AAL2');
  }

  /** Effective roles and grants: the unscoped ones, and one entry per scope (`scoped`). */
  async access(subjectId: string): Promise<EffectiveAccess & { scoped: ScopedAccess[] }> {
    const held = await this.assignmentsOf(subjectId);
    const now = this.clock.now();
    return {
      ...effectiveAccess(this.catalogue, held, now),
      scoped: scopedAccess(this.catalogue, held, now),
    };
  }

  /** The grants held unscoped, and with `scope` those held on it too, sorted and deduplicated. */
  async grantsHeldBy(subjectId: string, scope?: Scope): Promise<readonly string[]> {
    const held = await this.assignmentsOf(subjectId);
    const now = this.clock.now();
    const unscoped = effectiveAccess(this.catalogue, held, now).permissions;
    if (scope === undefined) return unscoped;
    const there = effectiveAccess(this.catalogue, held, now, scope).permissions;
    return [...new Set([...unscoped, ...there])].sort();
  }

  /** The subject's roles as this process sees them (lapsed ones too, until swept). */
  async assignmentsOf(subjectId: string): Promise<readonly HeldRole[]> {
    return this.subjects.peek(subjectId) ?? (await this.subjects.fetch(subjectId));
  }

  /** Whether the subject is cached or being read here. */
  holds(subjectId: string): boolean {
    return this.subjects.has(subjectId);
  }

  /**
   * Drops the subject; a read of it already in flight will not be installed (it may predate the
   * change that brought us here). Returns whether it was cached or being read.
   */
  forgetSubject(subjectId: string): boolean {
    return this.subjects.forget(subjectId);
  }

  /** Reads the subject now and caches it, unless it is forgotten again before the read returns. */
  async loadSubject(subjectId: string): Promise<void> {
    await this.subjects.fetch(subjectId);
  }

  /** Drops every subject (events may have been missed, or a role and its assignments went). */
  forgetAllSubjects(): void {
    this.subjects.forgetAll();
  }

  /** While the authz events cannot be heard, no subject is cached: every check reads it. */
  cacheSubjects(on: boolean): void {
    this.subjects.setAccepting(on);
  }

  /**
   * Swaps in a new catalogue. When a role is gone, so are its assignments (the database cascades):
   * every cached subject is dropped, so a role created again under the same name revives none.
   */
  replaceCatalogue(catalogue: RoleCatalogue): void {
    const removed = this.catalogue.list().some((role) => !catalogue.has(role.name));
    this.catalogue = catalogue;
    if (removed) this.subjects.forgetAll();
  }

  private decideOn(
    held: readonly HeldRole[],
    subjectId: string,
    permission: string,
    resource: ResourceRef | undefined,
    aal2: boolean,
  ): Decision {
    return decide(this.catalogue, held, subjectId, permission, resource, this.clock.now(), aal2);
  }

  /**
   * What the cache keeps of a read: the role, its scope and its expiry, nothing else. Most
   * subjects hold one permanent unscoped role, so that list is shared by every holder of the role
   * (one per role name, from a map as small as the catalogue): such a subject costs the cache its
   * key and one map slot.
   */
  private compact(assignments: readonly RoleAssignment[]): readonly HeldRole[] {
    if (assignments.length === 0) return NO_ROLES;
    if (
      assignments.length === 1 &&
      assignments[0]!.expireTime === undefined &&
      assignments[0]!.scope === undefined
    ) {
      const role = assignments[0]!.role;
      let shared = this.permanentOnly.get(role);
      if (!shared) {
        if (this.permanentOnly.size >= MAX_SHARED_LISTS) this.permanentOnly.clear();
        shared = Object.freeze([Object.freeze({ role })]);
        this.permanentOnly.set(role, shared);
      }
      return shared;
    }
    return Object.freeze(
      assignments.map(({ role, expireTime, scope }) =>
        Object.freeze({
          role,
          ...(expireTime === undefined ? {} : { expireTime }),
          ...(scope === undefined ? {} : { scope: Object.freeze({ ...scope }) }),
        }),
      ),
    );
  }
}

const NO_ROLES: readonly HeldRole[] = Object.freeze([]);

/** Role names are few; this only stops a flood of unknown names from growing the map. */
const MAX_SHARED_LISTS = 10_000;

/** The most subjects one batched read asks for (a CheckPermissions batch holds at most 100). */
export const MAX_SUBJECTS_PER_READ = 500;

/**
 * One subject's read, gathered with the others asked for in the same turn of the event loop:
 * a lone miss is read alone (the single-subject statement), several in one statement
 * (MAX_SUBJECTS_PER_READ at most each), so a batch of cold checks costs one round trip, not one
 * per subject. Each read starts when its turn ends, after it was asked for.
 */
function batchedReader(
  one: (subjectId: string) => Promise<RoleAssignment[]>,
  many: (subjectIds: readonly string[]) => Promise<Map<string, RoleAssignment[]>>,
): (subjectId: string) => Promise<RoleAssignment[]> {
  type Waiting = {
    subjectId: string;
    resolve: (held: RoleAssignment[]) => void;
    reject: (error: unknown) => void;
  };
  let waiting: Waiting[] = [];
  const flush = () => {
    const batch = waiting;
    waiting = [];
    for (let from = 0; from < batch.length; from += MAX_SUBJECTS_PER_READ) {
      const part = batch.slice(from, from + MAX_SUBJECTS_PER_READ);
      const failed = (error: unknown) => part.forEach((w) => w.reject(error));
      try {
        if (part.length === 1) one(part[0]!.subjectId).then(part[0]!.resolve, failed);
        else
          many([...new Set(part.map((w) => w.subjectId))]).then(
            (bySubject) => part.forEach((w) => w.resolve(bySubject.get(w.subjectId) ?? [])),
            failed,
          );
      } catch (error) {
        failed(error); // a source that throws instead of rejecting
      }
    }
  };
  return (subjectId) =>
    new Promise((resolve, reject) => {
      if (waiting.push({ subjectId, resolve, reject }) === 1) queueMicrotask(flush);
    });
}
