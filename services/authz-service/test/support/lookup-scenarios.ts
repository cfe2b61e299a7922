import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createAuthzApp } from '../../src/app.js';
import type { AuthzRepository } from '../../src/application/ports.js';
import {
  decide,
  planAllows,
  RoleCatalogue,
  type ResourceRef,
  type Role,
  type RoleAssignment,
} from '../../src/domain/index.js';
import { aRole, aServiceCall, FakeClock, silentLogger, T0 } from './mothers.js';
import { seed } from './seed.js';

/**
 * Random policies for the property tests of LookupSubjects and PlanPermission: a catalogue of up
 * to five roles (inheritance chains, `*`, `<resource>.*`, `:own`, `@aal2`), assignments of six
 * subjects (unscoped or on a resource, permanent, lapsing later or lapsed already), and a random
 * check (permission, resource or none, level). The answers are compared with CheckPermission's.
 */

const TYPES = ['guild', 'game'] as const;
const ACTIONS = ['join', 'moderate'] as const;
const IDS = ['1', '2'] as const;
const HOUR = 3_600_000;

/** Six subjects, the same for every run (ids sorted differently each run would test nothing more). */
export const SUBJECTS: readonly string[] = Array.from({ length: 6 }, () => randomUUID());

const permissionArb = fc
  .tuple(fc.constantFrom(...TYPES), fc.constantFrom(...ACTIONS))
  .map(([type, action]) => `${type}.${action}`);

const grantArb = fc
  .tuple(
    fc.oneof(
      fc.constant('*'),
      fc.constantFrom(...TYPES).map((type) => `${type}.*`),
      permissionArb,
    ),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([body, own, aal2]) => `${body}${own ? ':own' : ''}${aal2 ? '@aal2' : ''}`);

/** Role i may inherit only roles before it: chains, never cycles. */
const catalogueArb: fc.Arbitrary<Role[]> = fc
  .integer({ min: 1, max: 5 })
  .chain((count) =>
    fc.tuple(
      ...Array.from({ length: count }, (_, i) =>
        fc.record({
          permissions: fc.uniqueArray(grantArb, { maxLength: 3 }),
          inherits: fc.subarray(Array.from({ length: i }, (_, j) => `r${j}`)),
        }),
      ),
    ),
  )
  .map((drafts) =>
    drafts.map(({ permissions, inherits }, i) =>
      aRole({ name: `r${i}`, permissions: [...permissions].sort(), inherits }),
    ),
  );

const scopeArb = fc.option(
  fc.record({ type: fc.constantFrom(...TYPES), id: fc.constantFrom(...IDS) }),
  { nil: undefined },
);

/** Permanent, lapsing in an hour, or lapsed an hour ago (at T0, the app's clock). */
const expiryArb = fc.constantFrom<Array<Date | undefined>>(
  undefined,
  new Date(T0.getTime() + HOUR),
  new Date(T0.getTime() - HOUR),
);

const assignmentsArb = (roles: number): fc.Arbitrary<RoleAssignment[]> =>
  fc
    .array(
      fc.record({
        subject: fc.integer({ min: 0, max: SUBJECTS.length - 1 }),
        role: fc.integer({ min: 0, max: roles - 1 }),
        scope: scopeArb,
        expireTime: expiryArb,
      }),
      { maxLength: 12 },
    )
    .map((drafts) => {
      const byKey = new Map<string, RoleAssignment>();
      for (const { subject, role, scope, expireTime } of drafts) {
        const assignment: RoleAssignment = {
          subjectId: SUBJECTS[subject]!,
          role: `r${role}`,
          createTime: new Date(T0.getTime() - 2 * HOUR),
          ...(scope ? { scope } : {}),
          ...(expireTime ? { expireTime } : {}),
        };
        byKey.set(JSON.stringify([assignment.subjectId, role, scope?.type, scope?.id]), assignment);
      }
      return [...byKey.values()];
    });

const resourceArb: fc.Arbitrary<ResourceRef | undefined> = fc.option(
  fc.record({
    type: fc.constantFrom('', ...TYPES),
    id: fc.constantFrom('', ...IDS, '3'),
    ownerId: fc.constantFrom('', ...SUBJECTS),
  }),
  { nil: undefined },
);

export interface Scenario {
  roles: Role[];
  assignments: RoleAssignment[];
  permission: string;
  resource: ResourceRef | undefined;
  aal2: boolean;
  pageSize: number;
}

export const scenarioArb: fc.Arbitrary<Scenario> = catalogueArb.chain((roles) =>
  fc.record({
    roles: fc.constant(roles),
    assignments: assignmentsArb(roles.length),
    permission: permissionArb,
    resource: resourceArb,
    aal2: fc.boolean(),
    pageSize: fc.integer({ min: 1, max: 4 }),
  }),
);

/** The app over `repository` (emptied and seeded with the scenario by `prepare`) at T0. */
export async function appFor(repository: AuthzRepository, scenario: Scenario) {
  await seed(repository, { roles: scenario.roles, assignments: scenario.assignments });
  const app = createAuthzApp({ repository, clock: new FakeClock(T0), logger: silentLogger });
  await app.sync.loadCatalogue();
  return app;
}

type App = Awaited<ReturnType<typeof appFor>>;
const asService = aServiceCall('gateway');

/** Whom CheckPermission allows, of the six subjects. */
async function allowedSubjects(app: App, scenario: Scenario): Promise<string[]> {
  const allowed: string[] = [];
  for (const subjectId of SUBJECTS) {
    const decision = await app.bus.run(
      app.useCases.checkPermission,
      {
        subjectId,
        permission: scenario.permission,
        ...(scenario.resource ? { resource: scenario.resource } : {}),
        aal2: scenario.aal2,
      },
      asService,
    );
    if (decision.allowed) allowed.push(subjectId);
  }
  return allowed.sort();
}

/** Every page of LookupSubjects for the scenario's question. */
async function lookedUp(app: App, scenario: Scenario): Promise<string[]> {
  const all: string[] = [];
  let pageToken = '';
  for (let pages = 0; pages <= SUBJECTS.length; pages++) {
    const page = await app.bus.run(
      app.useCases.lookupSubjects,
      {
        permission: scenario.permission,
        ...(scenario.resource ? { resource: scenario.resource } : {}),
        aal2: scenario.aal2,
        pageSize: scenario.pageSize,
        pageToken,
      },
      asService,
    );
    if (page.subjectIds.length > scenario.pageSize) throw new Error('page over page_size');
    all.push(...page.subjectIds);
    if (page.nextPageToken === '') return all;
    pageToken = page.nextPageToken;
  }
  throw new Error('more pages than subjects');
}

/** LookupSubjects (all pages) is exactly the set CheckPermission allows, ordered, each once. */
export async function lookupAgreesWithCheck(app: App, scenario: Scenario): Promise<void> {
  const expected = await allowedSubjects(app, scenario);
  const actual = await lookedUp(app, scenario);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `LookupSubjects answered ${JSON.stringify(actual)}, CheckPermission allows ${JSON.stringify(expected)}`,
    );
  }
}

/**
 * For each subject, PlanPermission on the permission's type against CheckPermission on every
 * resource of the type worth telling apart (ids in and out of the scopes; owned by the subject,
 * by another, by nobody):
 * - a resource the plan allows, the check allows (a plan never over-allows);
 * - a resource the check allows, the plan allows, unless only a scoped `:own` grant allows it
 *   (scope AND owner, which the plan leaves out, as documented);
 * - step_up_required exactly when the plan at AAL2 allows a resource this plan does not.
 */
export async function planAgreesWithCheck(app: App, scenario: Scenario): Promise<void> {
  const type = scenario.permission.split('.')[0]!;
  const catalogue = new RoleCatalogue(scenario.roles);
  for (const subjectId of SUBJECTS) {
    const planAt = (aal2: boolean) =>
      app.bus.run(
        app.useCases.planPermission,
        { subjectId, permission: scenario.permission, resourceType: '', aal2 },
        asService,
      );
    const planned = await planAt(scenario.aal2);
    const atAal2 = scenario.aal2 ? planned : await planAt(true);
    let widened = false;
    const held = scenario.assignments.filter((a) => a.subjectId === subjectId);
    for (const id of [...IDS, '3']) {
      for (const ownerId of ['', subjectId, SUBJECTS.find((s) => s !== subjectId)!]) {
        const resource = { type, id, ownerId };
        const checked = await app.bus.run(
          app.useCases.checkPermission,
          { subjectId, permission: scenario.permission, resource, aal2: scenario.aal2 },
          asService,
        );
        const inPlan = planAllows(planned, subjectId, resource);
        const where = `${subjectId} on ${JSON.stringify(resource)}: plan ${JSON.stringify(planned)}, check ${checked.reason}`;
        if (inPlan && !checked.allowed) throw new Error(`plan over-allows ${where}`);
        if (!inPlan && checked.allowed) {
          const byScopedOwn = held.some(
            (a) =>
              a.scope?.type === type &&
              a.scope.id === id &&
              ownerId === subjectId &&
              decide(catalogue, [a], subjectId, scenario.permission, resource, T0, scenario.aal2)
                .allowed,
          );
          if (!byScopedOwn) throw new Error(`plan misses ${where}`);
        }
        if (planAllows(atAal2, subjectId, resource) && !inPlan) widened = true;
      }
    }
    if (!scenario.aal2 && planned.stepUpRequired !== widened)
      throw new Error(
        `step_up_required ${planned.stepUpRequired} for ${subjectId}, but AAL2 widens: ${widened}`,
      );
  }
}
