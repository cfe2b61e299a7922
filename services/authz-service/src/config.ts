import { fileURLToPath } from 'node:url';
import {
  COMMON_ALIASES,
  duration,
  listOf,
  loadConfig,
  serviceConfigSection,
  workerSection,
} from '@warden/config';
import { z } from 'zod';

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const roleName = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be a role name');

export const configSchema = serviceConfigSection.extend({
  session: z.object({ address: z.string().min(1), cache_ttl: duration() }),
  user_service: z.object({ address: z.string().min(1) }),
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
    model_reload_interval: duration().refine((ms) => ms >= 1_000, 'at least 1s'),
  }),
  worker: workerSection.extend({
    user_events_durable: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a NATS consumer name'),
    user_events_start_from: z.enum(['all', 'new']),
    expiry_sweep_interval: duration().refine((ms) => ms >= 100, 'at least 100ms'),
    retention_interval: duration(),
    outbox_retention: duration(),
    processed_events_retention: duration(),
  }),
});

export type AuthzConfig = z.infer<typeof configSchema>;

export const CONFIG_FILE = fileURLToPath(new URL('../config.yaml', import.meta.url));
export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

export function loadAuthzConfig(
  env: NodeJS.ProcessEnv = process.env,
  file = CONFIG_FILE,
): AuthzConfig {
  return loadConfig({ schema: configSchema, file, env, aliases: COMMON_ALIASES });
}
