import {
  COMMON_ALIASES,
  duration,
  grpcTarget,
  idempotencySection,
  listOf,
  loadConfig,
  serviceConfigSection,
  serviceFiles,
  workerSection,
} from '@warden/config';
import type { ServiceSpec } from '@warden/runtime';
import { z } from 'zod';
import {
  isWeakerThanStandard,
  type Argon2Params,
} from './adapters/crypto/argon2-password-hasher.js';
import { secretBoxFrom } from './adapters/crypto/secret-box.js';
import { normalizeStoredEmails } from './adapters/prisma/migrations.js';

const clientSection = z.object({
  /** `host:port`, `dns:///host:port` or `ipv4:a:p,b:p` of the service (clients go round_robin). */
  address: grpcTarget(),
  cache_ttl: duration(),
  /** Entries the client's cache keeps at most (least recently used go first). */
  cache_max: z.number().int().min(1).max(10_000_000),
});

const hashingSection = z
  .object({
    profile: z.enum(['standard', 'test']),
    memory_kib: z.number().int().min(8),
    iterations: z.number().int().min(1),
    parallelism: z.number().int().min(1).max(255),
    max_concurrent: z.number().int().min(0).max(1024),
    max_queue: z.number().int().min(0).max(100_000),
  })
  .refine((h) => h.profile === 'test' || !isWeakerThanStandard(toArgon2Params(h)), {
    path: ['profile'],
    message: 'argon2id parameters below m=19456 KiB, t=2, p=1 are allowed only with profile "test"',
  });

export const configSchema = serviceConfigSection.extend({
  auth: serviceConfigSection.shape.auth.extend({
    /** Services given one-time codes (RequestEmailVerification, RequestPasswordReset) to deliver. */
    notifier_services: listOf(z.string().min(1).max(128)),
    /** A user's own password or second-factor change needs a session started this recently. */
    privileged_session_max_age: duration().refine((ms) => ms >= 1000, 'at least 1s'),
  }),
  authz: clientSection,
  session: clientSection,
  password: z.object({
    hashing: hashingSection,
    breach_check: z.object({ enabled: z.boolean(), base_url: z.url(), timeout: duration() }),
  }),
  lockout: z.object({ max_failures: z.number().int().min(1).max(1000), window: duration() }),
  mfa: z.object({
    /** The issuer authenticator apps show next to the account (otpauth URI). */
    issuer: z.string().min(1).max(64),
    /** Seals TOTP secrets at rest (AES-256-GCM); production refuses dev-* or short keys. */
    encryption_key: z.string().min(1, 'is required: TOTP secrets are encrypted under it'),
    /** Earlier keys, still read after a rotation. */
    previous_encryption_keys: listOf(z.string().min(1)),
  }),
  idempotency: idempotencySection.extend({ ttl: duration() }),
  worker: workerSection.extend({ sweep_interval: duration(), outbox_retention: duration() }),
});

export type UserServiceConfig = z.infer<typeof configSchema>;

export const SERVICE_NAME = 'user-service';
export const {
  configFile: DEFAULT_CONFIG_FILE,
  migrationsDir: MIGRATIONS_DIR,
  prismaSchema: PRISMA_SCHEMA_PATH,
} = serviceFiles(import.meta.url);

/** config.yaml (or WARDEN_CONFIG_FILE), then WARDEN_* / DATABASE_URL / NATS_URL overrides, validated once. */
export function loadUserConfig(env: NodeJS.ProcessEnv = process.env): UserServiceConfig {
  const config = loadConfig({
    schema: configSchema,
    file: env.WARDEN_CONFIG_FILE ?? DEFAULT_CONFIG_FILE,
    env,
    aliases: COMMON_ALIASES,
  });
  // NODE_ENV=production refuses a dev-* or short MFA key before anything starts.
  secretBoxFrom(config.mfa, { production: env.NODE_ENV === 'production' });
  return config;
}

/**
 * What main, worker and migrate start with; migrations end by fixing stored emails. Every query
 * goes through pg: no process loads the generated Prisma client (~9 MB of RSS, ~24 MB more once its
 * query compiler runs).
 */
export const userService = {
  service: SERVICE_NAME,
  loadConfig: () => loadUserConfig(),
  migrations: { dir: MIGRATIONS_DIR, after: normalizeStoredEmails },
  readyQuery: 'SELECT 1 FROM users LIMIT 1',
  prisma: () => undefined,
} satisfies ServiceSpec<UserServiceConfig, undefined>;

export function toArgon2Params(hashing: {
  memory_kib: number;
  iterations: number;
  parallelism: number;
}): Argon2Params {
  return {
    memoryKib: hashing.memory_kib,
    iterations: hashing.iterations,
    parallelism: hashing.parallelism,
  };
}
