import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** What every log line of a request carries. */
export interface LogContext {
  requestId?: string;
  traceId?: string;
}

const contextStorage = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return contextStorage.run(context, fn);
}

export function currentLogContext(): LogContext | undefined {
  return contextStorage.getStore();
}

/** Secrets never reach a log line, wherever they sit in the logged object. */
export const REDACT_PATHS = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'authorization',
  'passwordHash',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.authorization',
  '*.passwordHash',
  '*["x-warden-service-key"]',
  'headers.authorization',
  'metadata.authorization',
  // Personal data: a log outlives DeleteUser's erasure, so ids only (DESIGN 3b).
  'email',
  'displayName',
  'ipAddress',
  'userAgent',
  '*.email',
  '*.displayName',
  '*.ipAddress',
  '*.userAgent',
];

export interface CreateLoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env.WARDEN_LOG_LEVEL ?? 'info',
    base: { service: options.service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const context = contextStorage.getStore();
      if (!context) return {};
      return { request_id: context.requestId, trace_id: context.traceId };
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

export { continueTrace, traceIdOf, type TraceContext } from './trace-context.js';
export * from './tracing.js';
