import { z } from 'zod';
import { duration, listOf } from './types.js';

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
  /** A connection older than this is closed (GOAWAY) so callers re-resolve and reach new replicas; 0: never. */
  max_connection_age: duration(),
  /** Plaintext port serving only grpc.health.v1 (kubelet probes cannot present a certificate); 0: off. */
  health_port: z.number().int().min(0).max(65535),
  /** Serve grpc.reflection (to callers with a service identity, like every RPC). */
  reflection: z.boolean(),
  /** NODE_ENV=production without grpc.tls: allowed only with this, behind a mesh that does mTLS. */
  allow_insecure: z.boolean(),
  tls: z
    .object({
      enabled: z.boolean(),
      cert_file: z.string(),
      key_file: z.string(),
      ca_file: z.string(),
    })
    .superRefine((tls, ctx) => {
      if (!tls.enabled) return;
      // Without a CA no client certificate is verified, so no caller could be identified.
      for (const key of ['cert_file', 'key_file', 'ca_file'] as const)
        if (tls[key].trim() === '')
          ctx.addIssue({ code: 'custom', path: [key], message: 'required when tls.enabled' });
    }),
});

/**
 * Where a client dials a peer: `host:port` or `dns:///host:port` (resolved by DNS; every address
 * of a headless Service is a replica), or a fixed list `ipv4:127.0.0.1:50051,127.0.0.1:50061`.
 */
export const grpcTarget = () =>
  z
    .string()
    .regex(
      /^(?:(?:dns:(?:\/\/[^\s/]*)?\/)?[^\s:/,]+:\d{1,5}|ipv4:\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}(?:,\d{1,3}(?:\.\d{1,3}){3}:\d{1,5})*)$/,
      'must be host:port, dns:///host:port or ipv4:a.b.c.d:port[,a.b.c.d:port...]',
    );

export const metricsSection = z.object({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65535),
});

export const databaseSection = z.object({
  url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case Postgres identifier'),
  pool_size: z.number().int().min(1).max(200),
});

export const natsSection = z
  .object({
    url: z.string().min(1),
    /** Replicas every warden stream must have (ops provisions them): 1 in dev, 3 on a cluster. */
    stream_replicas: z.number().int().min(1).max(5).default(1),
    /** This service's NATS user; the server's permissions decide what it may publish. */
    user: z.string(),
    password: z.string(),
    /** A .creds file (user JWT and nkey seed), instead of user and password. */
    credentials_file: z.string(),
    tls: z.object({
      enabled: z.boolean(),
      ca_file: z.string(),
      cert_file: z.string(),
      key_file: z.string(),
    }),
  })
  .superRefine((nats, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (nats.user !== '' && nats.password === '')
      issue(['password'], 'required when nats.user is set');
    if (nats.password !== '' && nats.user === '')
      issue(['user'], 'required when nats.password is set');
    if (nats.credentials_file !== '' && nats.user !== '')
      issue(['credentials_file'], 'give nats.credentials_file or nats.user, not both');
    const { tls } = nats;
    if ((tls.cert_file === '') !== (tls.key_file === ''))
      issue(
        ['tls', tls.cert_file === '' ? 'cert_file' : 'key_file'],
        'cert_file and key_file go together',
      );
    if (!tls.enabled && (tls.ca_file || tls.cert_file || tls.key_file))
      issue(['tls', 'enabled'], 'TLS files are set but nats.tls.enabled is false');
  });

const serviceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a service name (lower-case letters, digits, -)');

const serviceKey = z.string().min(16, 'service keys need at least 16 characters');

export const authSection = z.object({
  /** Keys this service accepts in x-warden-service-key, by calling service name (TLS off). */
  /** A caller may have a list of keys while one is rotated: the new one is added, then the old dropped. */
  service_keys: z
    .record(serviceName, z.union([serviceKey, z.array(serviceKey).min(1).max(4)]))
    .superRefine((keys, ctx) => {
      // One key, one caller: a shared key would make the identity depend on map order.
      const owner = new Map<string, string>();
      for (const [caller, value] of Object.entries(keys)) {
        for (const key of typeof value === 'string' ? [value] : value) {
          const first = owner.get(key);
          if (first && first !== caller)
            ctx.addIssue({
              code: 'custom',
              path: [caller],
              message: `same key as ${first}; every caller needs its own`,
            });
          else owner.set(key, caller);
        }
      }
    }),
  /** A YAML/JSON file holding the whole service_keys map (a mounted Secret); '' for none. */
  service_keys_file: z.string(),
  /** This service's own key, sent when it calls the others (TLS off). */
  client_key: z.string(),
  /** With mTLS: the client certificate CNs accepted as calling services; any other is refused. */
  allowed_services: listOf(serviceName),
});

/**
 * Peer addresses set once for a whole deployment (one ConfigMap, one compose anchor): a service
 * that does not call that peer accepts and ignores its variable.
 */
export const SHARED_VARIABLES = [
  'WARDEN_USER_SERVICE_ADDRESS',
  'WARDEN_SESSION_ADDRESS',
  'WARDEN_AUTHZ_ADDRESS',
] as const;

/**
 * The server secret that keys idempotency records (encryption and fingerprint), so a database dump
 * yields no token and no password test. Production refuses an empty or short one at start.
 */
export const idempotencySection = z.object({
  secret: z.string(),
  /** Earlier secrets, still accepted to read records written before a rotation. */
  previous_secrets: listOf(z.string().min(1)),
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

/**
 * Readiness from dependencies: gRPC health turns NOT_SERVING once Postgres or NATS has failed every
 * probe for dependency_grace, and SERVING again at their first answer (liveness never depends on them).
 */
export const healthSection = z.object({
  dependency_grace: duration().refine((ms) => ms >= 100, 'at least 100ms'),
  dependency_interval: duration().refine((ms) => ms >= 100, 'at least 100ms'),
});

const DAY_MS = 86_400_000;

/**
 * The audit trail (audit_events, in each service's database): entries older than `retention` are
 * deleted by the service's worker. 400 days by default: a year of history plus a quarter's grace
 * for an annual review; at least one day.
 */
export const auditSection = z.object({
  retention: duration().refine((ms) => ms >= DAY_MS, 'at least 1d'),
});

/** What every service process reads; each service extends it with its own sections. */
export const serviceConfigSection = z.object({
  grpc: grpcSection,
  health: healthSection.default({ dependency_grace: 5_000, dependency_interval: 1_000 }),
  metrics: metricsSection,
  database: databaseSection.extend({
    /** Apply migrations at start (dev); production runs the migrations Job instead. */
    migrate_on_start: z.boolean(),
  }),
  nats: natsSection,
  auth: authSection,
  log: logSection,
  telemetry: telemetrySection,
  idempotency: idempotencySection,
  audit: auditSection.default({ retention: 400 * DAY_MS }),
});

export type ServiceConfig = z.infer<typeof serviceConfigSection>;

/**
 * A worker process serves its own metrics (on metrics.host), and grpc.health.v1 on health_port
 * (plaintext, on grpc.host; 0: none).
 */
export const workerSection = z.object({
  metrics_port: z.number().int().min(0).max(65535),
  health_port: z.number().int().min(0).max(65535).default(0),
});

/** Environment names that need no WARDEN_ prefix (the OpenTelemetry one included). */
export const COMMON_ALIASES = {
  DATABASE_URL: 'database.url',
  NATS_URL: 'nats.url',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'telemetry.otlp_endpoint',
};
