export {
  createSessionResolver,
  type SessionResolver,
  type SessionResolverOptions,
} from './session-resolver.js';
export { PrincipalCache } from './principal-cache.js';
