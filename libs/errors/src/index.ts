/**
 * One error model for every service. Domain and application code throw AppError (or a subclass);
 * the gRPC kit maps `kind` to a status code, `reason` to google.rpc.ErrorInfo and `violations` to
 * google.rpc.BadRequest. This file imports nothing, so domain code may use it.
 */
export type ErrorKind =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'RESOURCE_EXHAUSTED'
  | 'ABORTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  /** A position past what is kept, e.g. a feed cursor older than the stream's retention. */
  | 'OUT_OF_RANGE'
  /** An RPC the contract names but this build does not serve yet. */
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

export interface FieldViolation {
  field: string;
  description: string;
}

export interface AppErrorOptions {
  violations?: FieldViolation[];
  metadata?: Record<string, string>;
  /** When the caller may try again (google.rpc.RetryInfo), e.g. after a lockout. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly violations: FieldViolation[];
  readonly metadata: Record<string, string>;
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly kind: ErrorKind,
    /** Stable, UPPER_SNAKE reason callers switch on, e.g. EMAIL_TAKEN. */
    readonly reason: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.violations = options.violations ?? [];
    this.metadata = options.metadata ?? {};
    this.retryAfterMs = options.retryAfterMs;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

const DEPENDENCY_FAILURES: ReadonlySet<ErrorKind> = new Set([
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'ABORTED',
  'RESOURCE_EXHAUSTED',
  'INTERNAL',
]);

/** A kind meaning the service called could not answer (down, slow, busy, failed itself): nothing was decided. */
export const isDependencyFailure = (kind: ErrorKind): boolean => DEPENDENCY_FAILURES.has(kind);

/** A service's error reasons, each raised with exactly one kind. */
export type ReasonCatalogue = Readonly<Record<string, ErrorKind>>;

/** The `fail(reason, message)` of one catalogue: the kind comes from the reason. */
export function failWith<C extends ReasonCatalogue>(
  reasons: C,
): (reason: keyof C & string, message: string, options?: AppErrorOptions) => AppError {
  return (reason, message, options) => new AppError(reasons[reason]!, reason, message, options);
}

/** Bad input, with one violation per offending field. */
export const invalidArgument = (
  violations: FieldViolation[],
  reason = 'INVALID_ARGUMENT',
): AppError =>
  new AppError(
    'INVALID_ARGUMENT',
    reason,
    violations.map((v) => `${v.field}: ${v.description}`).join('; ') || 'invalid argument',
    { violations },
  );

export const notFound = (
  reason: string,
  message: string,
  metadata?: Record<string, string>,
): AppError => new AppError('NOT_FOUND', reason, message, { metadata });

export const alreadyExists = (
  reason: string,
  message: string,
  metadata?: Record<string, string>,
): AppError => new AppError('ALREADY_EXISTS', reason, message, { metadata });

export const failedPrecondition = (
  reason: string,
  message: string,
  metadata?: Record<string, string>,
): AppError => new AppError('FAILED_PRECONDITION', reason, message, { metadata });

export const permissionDenied = (
  message: string,
  reason = 'PERMISSION_DENIED',
  metadata?: Record<string, string>,
): AppError => new AppError('PERMISSION_DENIED', reason, message, { metadata });

export const unauthenticated = (reason: string, message: string): AppError =>
  new AppError('UNAUTHENTICATED', reason, message);

/** Collects field violations so a request reports every bad field at once. */
export class Violations {
  private readonly list: FieldViolation[] = [];

  add(field: string, description: string): this {
    this.list.push({ field, description });
    return this;
  }

  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  throwIfAny(reason?: string): void {
    if (this.list.length > 0) throw invalidArgument(this.list, reason);
  }
}
