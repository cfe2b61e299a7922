export {
  createAuthzChecker,
  AUTHZ_EVENTS_SUBJECT,
  type AuthzChecker,
  type AuthzCheckerOptions,
} from './authz-checker.js';
export { DecisionCache, decisionKey, type DecisionCacheOptions } from './decision-cache.js';
export { planWhere, type PlanColumns, type PlanCondition, type PlanWhere } from './plan-where.js';
