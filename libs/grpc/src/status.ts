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
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  OUT_OF_RANGE: status.OUT_OF_RANGE,
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
  kind !== 'INTERNAL' &&
  kind !== 'UNAVAILABLE' &&
  kind !== 'DEADLINE_EXCEEDED' &&
  kind !== 'UNIMPLEMENTED';

/** AppError -> status with google.rpc.Status (ErrorInfo, BadRequest) in grpc-status-details-bin. */
export function toStatus(error: AppError): Partial<StatusObject> {
  const code = CODES[error.kind];
  // An INTERNAL error's message and metadata describe our fault for the log; the caller gets its reason.
  const message = error.kind === 'INTERNAL' ? INTERNAL_MESSAGE : error.message;
  const metadata = error.kind === 'INTERNAL' ? {} : error.metadata;
  const details = [
    {
      typeUrl: ERROR_INFO_TYPE,
      value: Buffer.from(
        rpcDetails.ErrorInfo.encode({
          reason: error.reason,
          domain: ERROR_DOMAIN,
          metadata,
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
  const trailers = new Metadata();
  trailers.set(
    DETAILS_KEY,
    Buffer.from(
      rpcStatus.Status.encode(rpcStatus.Status.fromPartial({ code, message, details })).finish(),
    ),
  );
  return { code, details: message, metadata: trailers };
}

const INTERNAL_MESSAGE = 'internal error';

/** An error's cause chain as one line for the log (`a <- b <- c`), or undefined when it has none. */
export function describeCause(cause: unknown): string | undefined {
  const parts: string[] = [];
  for (let next = cause; next !== undefined && next !== null && parts.length < 5;) {
    if (next instanceof Error) {
      parts.push(next.message);
      next = next.cause;
    } else {
      parts.push(String(next));
      break;
    }
  }
  return parts.length > 0 ? parts.join(' <- ') : undefined;
}

/** What a caller sees for anything that is not an AppError: no stack, no SQL. */
export const internalStatus = (): Partial<StatusObject> =>
  toStatus(new AppError('INTERNAL', 'INTERNAL', INTERNAL_MESSAGE));

/** What a caller may read of a failure we did not produce ourselves: no address, errno or peer text. */
const GENERIC_MESSAGES: Partial<Record<ErrorKind, string>> = {
  UNAVAILABLE: 'unavailable',
  DEADLINE_EXCEEDED: 'did not answer in time',
  ABORTED: 'call cancelled',
};

/**
 * Client side: a gRPC error back into an AppError with its reason and field violations. Only a
 * warden server's status (its ErrorInfo in our domain) keeps its message; a transport failure or a
 * foreign peer gets a generic one naming `dependency`, and the original stays as `cause` for logs.
 */
export function fromServiceError(error: ServiceError | Error, dependency = 'dependency'): AppError {
  const serviceError = error as ServiceError;
  if (typeof serviceError.code !== 'number')
    return new AppError('UNAVAILABLE', 'UNAVAILABLE', `${dependency} unavailable`, {
      cause: error,
    });
  const kind =
    KINDS.get(serviceError.code) ??
    (serviceError.code === status.CANCELLED ? 'ABORTED' : 'INTERNAL');
  let reason: string = kind;
  let fromWarden = false;
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
          fromWarden = info.domain === ERROR_DOMAIN;
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
  if (!fromWarden)
    return new AppError(kind, kind, `${dependency} ${GENERIC_MESSAGES[kind] ?? 'failed'}`, {
      cause: error,
    });
  return new AppError(kind, reason, serviceError.details || kind, {
    violations,
    metadata,
    retryAfterMs,
    cause: error,
  });
}
