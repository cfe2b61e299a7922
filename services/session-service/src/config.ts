import {
  COMMON_ALIASES,
  ConfigError,
  duration,
  grpcTarget,
  listOf,
  loadConfig,
  serviceConfigSection,
  serviceFiles,
  workerSection,
} from '@warden/config';
import type { ServiceSpec } from '@warden/runtime';
import { z } from 'zod';
import { MIN_TOKEN_BYTES } from './domain/session-token.js';

const address = grpcTarget();
const positive = (min = 1) =>
  duration().refine((ms) => ms >= min, { message: `must be at least ${min} ms` });

export const configSchema = serviceConfigSection
  .extend({
    user_service: z.object({ address, deadline: positive(10) }),
    authz: z.object({
      address,
      cache_ttl: duration(),
      cache_max: z.number().int().min(1).max(10_000_000),
    }),
    session: z.object({
      absolute_ttl: positive(1_000),
      idle_timeout: positive(1_000),
      max_per_user: z.number().int().min(1).max(1_000),
      token_bytes: z.number().int().min(MIN_TOKEN_BYTES).max(128),
      last_seen_flush_interval: positive(10),
    }),
    cache: z.object({ max_entries: z.number().int().min(1).max(10_000_000), ttl: positive(100) }),
    watch: z.object({
      allowed_services: listOf(z.string().min(1)),
      queue_size: z.number().int().min(1).max(1_000_000),
      max_streams: z.number().int().min(1).max(1_000_000),
      max_streams_per_caller: z.number().int().min(1).max(1_000_000),
    }),
    sweeper: z.object({
      interval: positive(100),
      batch_size: z.number().int().min(1).max(10_000),
      retention: positive(60_000),
    }),
    events: z.object({
      user_events_durable: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a NATS durable name'),
      user_events_start_from: z.enum(['all', 'new']),
    }),
    access_tokens: z.object({
      enabled: z.boolean(),
      issuer: z.string().min(1),
      ttl: positive(1_000),
      rotation: positive(60_000),
      key_refresh: positive(100),
      signing_secret: z.string(),
      previous_signing_secrets: listOf(z.string().min(1)),
    }),
    revocations: z.object({
      allowed_services: listOf(z.string().min(1)),
      queue_size: z.number().int().min(1).max(1_000_000),
      max_streams: z.number().int().min(1).max(1_000_000),
      max_streams_per_caller: z.number().int().min(1).max(1_000_000),
    }),
    worker: workerSection,
  })
  .superRefine((config, ctx) => {
    if (config.access_tokens.key_refresh >= config.access_tokens.rotation) {
      ctx.addIssue({
        code: 'custom',
        path: ['access_tokens', 'key_refresh'],
        message: 'must be shorter than access_tokens.rotation',
      });
    }
    if (config.session.idle_timeout > config.session.absolute_ttl) {
      ctx.addIssue({
        code: 'custom',
        path: ['session', 'idle_timeout'],
        message: 'must not exceed session.absolute_ttl',
      });
    }
    if (config.session.last_seen_flush_interval >= config.session.idle_timeout) {
      ctx.addIssue({
        code: 'custom',
        path: ['session', 'last_seen_flush_interval'],
        message: 'must be shorter than session.idle_timeout',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

export const SERVICE_NAME = 'session-service';
export const { configFile: CONFIG_FILE, migrationsDir: MIGRATIONS_DIR } = serviceFiles(
  import.meta.url,
);

export const loadSessionConfig = (
  env: NodeJS.ProcessEnv = process.env,
  file = CONFIG_FILE,
): Config => {
  const config = loadConfig({ schema: configSchema, file, env, aliases: COMMON_ALIASES });
  checkSigningSecret(config.access_tokens, env);
  return config;
};

/** Seals access token signing keys in dev when access_tokens.signing_secret is empty; public. */
export const DEV_SIGNING_SECRET = 'dev-access-token-signing-secret-0000000000';
export const MIN_SIGNING_SECRET_LENGTH = 32;

/** The secret sealing signing keys: the configured one, or in dev the public dev secret. */
export const signingSecret = (section: Config['access_tokens']): string =>
  section.signing_secret.trim() || DEV_SIGNING_SECRET;

/** NODE_ENV=production with access tokens on refuses an empty, short or dev- signing secret. */
function checkSigningSecret(section: Config['access_tokens'], env: NodeJS.ProcessEnv): void {
  if (env.NODE_ENV !== 'production' || !section.enabled) return;
  for (const [key, secrets] of [
    ['signing_secret', [section.signing_secret.trim()]],
    ['previous_signing_secrets', section.previous_signing_secrets.map((s) => s.trim())],
  ] as const) {
    const weak = secrets.find((s) => s.length < MIN_SIGNING_SECRET_LENGTH || s.startsWith('dev-'));
    if (weak !== undefined)
      throw new ConfigError(
        `config: access_tokens.${key} (set WARDEN_ACCESS_TOKENS_${key.toUpperCase()}): NODE_ENV=production with access tokens enabled needs secrets of at least ${MIN_SIGNING_SECRET_LENGTH} characters, not dev- ones`,
      );
  }
}

/** What main, worker and migrate start with. */
export const sessionService = {
  service: SERVICE_NAME,
  loadConfig: () => loadSessionConfig(),
  migrations: { dir: MIGRATIONS_DIR },
  readyQuery: 'SELECT 1 FROM sessions LIMIT 1',
  // Every query goes through pg: no Prisma client is loaded (its generated code is ~9 MB of RSS).
  prisma: () => undefined,
} satisfies ServiceSpec<Config, undefined>;
