import { authzv1 } from '@warden/proto';
import { describe, expect, it } from 'vitest';
import { planWhere } from './plan-where.js';

const columns = { id: 'id', owner: 'userId' } as const;
const me = '0190a6c2-0000-7000-8000-000000000001';
const plan = (kind: authzv1.PlanKind, ownerOnly = false, scopedResourceIds: string[] = []) => ({
  kind,
  ownerOnly,
  scopedResourceIds,
});
const { PLAN_KIND_ALWAYS_ALLOWED, PLAN_KIND_ALWAYS_DENIED, PLAN_KIND_CONDITIONAL } =
  authzv1.PlanKind;

describe('planWhere', () => {
  it('filters nothing for ALWAYS_ALLOWED and everything for ALWAYS_DENIED', () => {
    expect(planWhere(plan(PLAN_KIND_ALWAYS_ALLOWED), me, columns)).toEqual({});
    expect(planWhere(plan(PLAN_KIND_ALWAYS_DENIED), me, columns)).toEqual({ id: { in: [] } });
  });

  it('keeps the owned rows or the scoped ids of a CONDITIONAL plan', () => {
    expect(planWhere(plan(PLAN_KIND_CONDITIONAL, true), me, columns)).toEqual({
      OR: [{ userId: me }],
    });
    expect(planWhere(plan(PLAN_KIND_CONDITIONAL, false, ['a', 'b']), me, columns)).toEqual({
      OR: [{ id: { in: ['a', 'b'] } }],
    });
    expect(planWhere(plan(PLAN_KIND_CONDITIONAL, true, ['a']), me, columns)).toEqual({
      OR: [{ userId: me }, { id: { in: ['a'] } }],
    });
  });

  it('fails closed on a plan it cannot read', () => {
    for (const kind of [authzv1.PlanKind.PLAN_KIND_UNSPECIFIED, authzv1.PlanKind.UNRECOGNIZED]) {
      expect(planWhere(plan(kind, true, ['a']), me, columns)).toEqual({ id: { in: [] } });
    }
    expect(planWhere(plan(PLAN_KIND_CONDITIONAL), me, columns)).toEqual({ id: { in: [] } });
  });
});
