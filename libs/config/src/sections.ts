import { z } from 'zod';
import { duration } from './types.js';

/** Config sections every service shares; each service adds its own beside them. */
export const grpcSection = z.object({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
  max_message_bytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024),
  shutdown_grace: duration(),
  tls: z.object({
    enabled: z.boolean(),
    cert_file: z.string(),
    key_file: z.string(),
    ca_file: z.string(),
  }),
});

export const metricsSection = z.object({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
});

export const databaseSection = z.object({
  url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case Postgres identifier'),
  pool_size: z.number().int().min(1).max(200),
});

export const natsSection = z.object({
  url: z.string().min(1),
});

export const authSection = z.object({
  /** Keys this service accepts in x-warden-service-key, by calling service name. */
  service_keys: z.record(
    z.string(),
    z.string().min(16, 'service keys need at least 16 characters'),
  ),
  /** This service's own key, sent when it calls the others. */
  client_key: z.string(),
});

export const logSection = z.object({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
});

export const telemetrySection = z.object({
  /** OTLP/HTTP collector base URL (spans go to <url>/v1/traces); empty: no spans are exported. */
  otlp_endpoint: z.union([
    z.literal(''),
    z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s):// URL, or empty to export nothing'),
  ]),
});

/** Environment names that need no WARDEN_ prefix (the OpenTelemetry one included). */
export const COMMON_ALIASES = {
  DATABASE_URL: 'database.url',
  NATS_URL: 'nats.url',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'telemetry.otlp_endpoint',
};
