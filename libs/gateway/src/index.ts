export {
  createGateway,
  type Gateway,
  type GatewayOptions,
  type GatewayStatus,
  type HeadersLike,
} from './gateway.js';
export { grpcSessionApi, type GrpcSessionApiOptions } from './grpc-session-api.js';
export {
  FileCheckpointStore,
  MemoryCheckpointStore,
  type Checkpoint,
  type CheckpointStore,
} from './checkpoint-store.js';
export { RevocationState, type RevocationSnapshot } from './revocation-state.js';
export { GatewayError, type GatewayErrorCode } from './errors.js';
export type { Jwk, Principal, RevocationItem, RevocationKind, SessionApi } from './types.js';
