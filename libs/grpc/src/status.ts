import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { AppError, type ErrorKind } from '@warden/errors';
import { rpcDetails, rpcStatus } from '@warden/proto';

/** The one mapping from error kinds to gRPC codes. */
const CODES: Record<ErrorKind, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  ABORTED: status.ABORTED,
  UNAVAILABLE: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  INTERNAL: status.INTERNAL,
};
const KINDS = new Map<status, ErrorKind>(
  Object.entries(CODES).map(([kind, code]) => [code, kind as ErrorKind]),
);

const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';
const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';
export const ERROR_DOMAIN = 'warden.dev';
const DETAILS_KEY = 'grpc-status-details-bin';

/** Kinds that are the caller's doing: logged quietly, never as our failure. */
export const isClientKind = (kind: ErrorKind): boolean =>
  kind !== 'INTERNAL' && kind !== 'UNAVAILABLE' && kind !== 'DEADLINE_EXCEEDED';

/** AppError -> status with google.rpc.Status (ErrorInfo, BadRequest) in grpc-status-details-bin. */
export function toStatus(error: AppError): Partial<StatusObject> {
  const code = CODES[error.kind];
  const details = [
    {
      typeUrl: ERROR_INFO_TYPE,
      value: Buffer.from(
        rpcDetails.ErrorInfo.encode({
          reason: error.reason,
          domain: ERROR_DOMAIN,
          metadata: error.metadata,
        }).finish(),
      ),
    },
  ];
  if (error.violations.length > 0) {
    details.push({
      typeUrl: BAD_REQUEST_TYPE,
      value: Buffer.from(
        rpcDetails.BadRequest.encode(
          rpcDetails.BadRequest.fromPartial({
            fieldViolations: error.violations.map((v) => ({
              field: v.field,
              description: v.description,
            })),
          }),
        ).finish(),
      ),
    });
  }
  if (error.retryAfterMs !== undefined) {
    const seconds = Math.floor(error.retryAfterMs / 1000);
    const nanos = Math.round((error.retryAfterMs % 1000) * 1_000_000);
    details.push({
      typeUrl: RETRY_INFO_TYPE,
      value: Buffer.from(rpcDetails.RetryInfo.encode({ retryDelay: { seconds, nanos } }).finish()),
    });
  }
  const metadata = new Metadata();
  metadata.set(
    DETAILS_KEY,
    Buffer.from(
      rpcStatus.Status.encode(
        rpcStatus.Status.fromPartial({ code, message: error.message, details }),
      ).finish(),
    ),
  );
  return { code, details: error.message, metadata };
}

/** What a caller sees for anything that is not an AppError: no stack, no SQL. */
export const internalStatus = (): Partial<StatusObject> =>
  toStatus(new AppError('INTERNAL', 'INTERNAL', 'internal error'));

/** Client side: a gRPC error back into an AppError with its reason and field violations. */
export function fromServiceError(error: ServiceError | Error): AppError {
  const serviceError = error as ServiceError;
  if (typeof serviceError.code !== 'number')
    return new AppError('UNAVAILABLE', 'UNAVAILABLE', error.message, { cause: error });
  const kind =
    KINDS.get(serviceError.code) ??
    (serviceError.code === status.CANCELLED ? 'ABORTED' : 'INTERNAL');
  let reason: string = kind;
  let metadata: Record<string, string> = {};
  const violations: Array<{ field: string; description: string }> = [];
  let retryAfterMs: number | undefined;
  const raw = serviceError.metadata?.get(DETAILS_KEY)[0];
  if (raw instanceof Buffer) {
    try {
      for (const any of rpcStatus.Status.decode(raw).details) {
        if (any.typeUrl === ERROR_INFO_TYPE) {
          const info = rpcDetails.ErrorInfo.decode(any.value);
          reason = info.reason;
          metadata = info.metadata;
        } else if (any.typeUrl === RETRY_INFO_TYPE) {
          const delay = rpcDetails.RetryInfo.decode(any.value).retryDelay;
          if (delay) retryAfterMs = delay.seconds * 1000 + Math.round(delay.nanos / 1_000_000);
        } else if (any.typeUrl === BAD_REQUEST_TYPE) {
          for (const v of rpcDetails.BadRequest.decode(any.value).fieldViolations) {
            violations.push({ field: v.field, description: v.description });
          }
        }
      }
    } catch {
      // Details are advisory: a peer that sends garbage still yields its code.
    }
  }
  return new AppError(kind, reason, serviceError.details || serviceError.message, {
    violations,
    metadata,
    retryAfterMs,
    cause: error,
  });
}
