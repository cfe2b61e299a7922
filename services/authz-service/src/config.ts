import {
  COMMON_ALIASES,
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

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const roleName = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be a role name');

export const configSchema = serviceConfigSection.extend({
  session: z.object({
    address: grpcTarget(),
    cache_ttl: duration(),
    cache_max: z.number().int().min(1).max(10_000_000),
  }),
  user_service: z.object({ address: grpcTarget() }),
  authz: z.object({
    default_role: roleName,
    bootstrap_admins: listOf(
      z
        .string()
        .transform((entry) => entry.trim().toLowerCase())
        .refine(
          (entry) => USER_ID.test(entry) || z.string().email().safeParse(entry).success,
          'must be an email or a user id',
        ),
    ),
    /** An email entry grants admin only to a user who verified that email (dev stacks: false). */
    bootstrap_requires_verified_email: z.boolean(),
    catalogue_reload_interval: duration().refine((ms) => ms >= 1_000, 'at least 1s'),
    subject_cache_max: z.number().int().min(1).max(100_000_000),
    max_bound_grant_ttl: duration().refine(
      (ms) => ms >= 60_000 && ms <= 30 * 24 * 3_600_000,
      'between 1m and 30d',
    ),
    min_revision_wait: duration().refine((ms) => ms <= 5_000, 'at most 5s'),
  }),
  worker: workerSection.extend({
    user_events_durable: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a NATS consumer name'),
    user_events_start_from: z.enum(['all', 'new']),
    session_events_durable: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a NATS consumer name'),
    session_events_start_from: z.enum(['all', 'new']),
    expiry_sweep_interval: duration().refine((ms) => ms >= 100, 'at least 100ms'),
    retention_interval: duration(),
    outbox_retention: duration(),
    processed_events_retention: duration(),
  }),
});

export type AuthzConfig = z.infer<typeof configSchema>;

export const SERVICE_NAME = 'authz-service';
export const { configFile: CONFIG_FILE, migrationsDir: MIGRATIONS_DIR } = serviceFiles(
  import.meta.url,
);

export const loadAuthzConfig = (
  env: NodeJS.ProcessEnv = process.env,
  file = CONFIG_FILE,
): AuthzConfig => loadConfig({ schema: configSchema, file, env, aliases: COMMON_ALIASES });

/** What main, worker, migrate and the admin CLI start with. */
export const authzService = {
  service: SERVICE_NAME,
  loadConfig: () => loadAuthzConfig(),
  migrations: { dir: MIGRATIONS_DIR },
  readyQuery: 'SELECT 1 FROM roles LIMIT 1',
  // Every query goes through pg: no Prisma client is loaded (its generated code is ~9 MB of RSS).
  prisma: () => undefined,
} satisfies ServiceSpec<AuthzConfig, undefined>;
