// Generated protobuf modules (`buf generate`), one namespace per proto file.
import { fileURLToPath } from 'node:url';

export * as userv1 from './gen/warden/user/v1/user.js';
export * as userEventsV1 from './gen/warden/user/v1/events.js';
export * as sessionv1 from './gen/warden/session/v1/session.js';
export * as sessionEventsV1 from './gen/warden/session/v1/events.js';
export * as authzv1 from './gen/warden/authz/v1/authz.js';
export * as authzEventsV1 from './gen/warden/authz/v1/events.js';
export * as auditv1 from './gen/warden/audit/v1/audit.js';
export * as rpcStatus from './gen/google/rpc/status.js';
export * as rpcDetails from './gen/google/rpc/error_details.js';
export * as rpcCode from './gen/google/rpc/code.js';
// google.rpc.Status.details holds Anys: { typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo', value }.
export { Any } from './gen/google/protobuf/any.js';

/** Descriptor set of every warden proto and its imports (`buf build`), for gRPC reflection. */
export const descriptorSetPath: string = fileURLToPath(
  new URL('../descriptor.binpb', import.meta.url),
);
