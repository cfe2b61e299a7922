import { authzv1 } from '@warden/proto';

/** The two columns of a listed resource a plan filters on: its id, and its owner's subject id. */
export interface PlanColumns<Id extends string, Owner extends string> {
  id: Id;
  owner: Owner;
}

/**
 * A Prisma `where` over a model with string fields `Id` and `Owner` (any other ORM taking the
 * same shape works too): `{}` for every row, `{ [id]: { in: [] } }` for none, else an `OR` of
 * `{ [owner]: subjectId }` and `{ [id]: { in: ids } }`.
 */
export type PlanWhere<Id extends string, Owner extends string> = {
  [K in Id]?: { in: string[] };
} & {
  OR?: Array<PlanCondition<Id, Owner>>;
};

/** One way a row gets in: owned by the subject, or one of the ids. */
export type PlanCondition<Id extends string, Owner extends string> =
  { [K in Owner]: string } | { [K in Id]: { in: string[] } };

/**
 * Turns `AuthzService.PlanPermission`'s answer into the filter of a list endpoint, so it reads only
 * the rows the subject may act on instead of checking each: AND it with the endpoint's own filters
 * (`where: { AND: [filters, planWhere(plan, subjectId, { id: 'id', owner: 'userId' })] }`).
 * `subjectId` is the one the plan was asked for. A kind this client does not know lists nothing.
 */
export function planWhere<const Id extends string, const Owner extends string>(
  plan: Pick<authzv1.PlanPermissionResponse, 'kind' | 'ownerOnly' | 'scopedResourceIds'>,
  subjectId: string,
  columns: PlanColumns<Id, Owner>,
): PlanWhere<Id, Owner> {
  const byIds = (ids: string[]) =>
    ({ [columns.id]: { in: ids } }) as { [K in Id]: { in: string[] } };
  switch (plan.kind) {
    case authzv1.PlanKind.PLAN_KIND_ALWAYS_ALLOWED:
      return {};
    case authzv1.PlanKind.PLAN_KIND_CONDITIONAL: {
      const anyOf: Array<PlanCondition<Id, Owner>> = [];
      if (plan.ownerOnly) anyOf.push({ [columns.owner]: subjectId } as { [K in Owner]: string });
      if (plan.scopedResourceIds.length > 0) anyOf.push(byIds([...plan.scopedResourceIds]));
      // A CONDITIONAL plan names at least one condition; none would be an empty OR: no row.
      return anyOf.length > 0 ? ({ OR: anyOf } as PlanWhere<Id, Owner>) : byIds([]);
    }
    default:
      // ALWAYS_DENIED, and fail closed on anything else: `id IN ()` matches no row.
      return byIds([]);
  }
}
