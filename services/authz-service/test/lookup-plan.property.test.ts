import fc from 'fast-check';
import { describe, it } from 'vitest';
import { MemoryAuthzRepository } from '../src/adapters/memory/memory-authz-repository.js';
import {
  appFor,
  lookupAgreesWithCheck,
  planAgreesWithCheck,
  scenarioArb,
} from './support/lookup-scenarios.js';

// Over random catalogues (inheritance chains, wildcards, :own, @aal2), assignments (scoped,
// unscoped, lapsed) and checks, on the memory adapter: LookupSubjects answers exactly whom
// CheckPermission allows, and PlanPermission agrees with CheckPermission on the resources of the
// type. lookup-subjects.int.test.ts runs the first property on Postgres too.

const RUNS = 200;

describe('LookupSubjects and PlanPermission against CheckPermission (property)', () => {
  it('LookupSubjects, every page, is exactly the subjects CheckPermission allows', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) =>
        lookupAgreesWithCheck(await appFor(new MemoryAuthzRepository([]), scenario), scenario),
      ),
      { numRuns: RUNS },
    );
  }, 60_000);

  it('PlanPermission never allows what CheckPermission refuses, and misses only scoped :own grants', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) =>
        planAgreesWithCheck(await appFor(new MemoryAuthzRepository([]), scenario), scenario),
      ),
      { numRuns: RUNS },
    );
  }, 60_000);
});
