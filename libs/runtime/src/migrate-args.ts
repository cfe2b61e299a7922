import { duration } from '@warden/config';

/** Without `--timeout=`, `--wait` gives up after this long (the init container is then restarted). */
export const DEFAULT_MIGRATIONS_WAIT_MS = 600_000;

/**
 * A migrate entry point's arguments: none applies the migrations (the release's Job);
 * `--wait [--timeout=5m]` only waits for them (a rollout's init container).
 */
export function migrateArgs(argv: readonly string[]): { waitForMigrationsMs?: number } {
  let wait = false;
  let timeout: string | undefined;
  for (const arg of argv) {
    if (arg === '--wait') wait = true;
    else if (arg.startsWith('--timeout=')) timeout = arg.slice('--timeout='.length);
    else throw new Error(`unknown argument "${arg}" (expected --wait [--timeout=<duration>])`);
  }
  if (timeout !== undefined && !wait) throw new Error('--timeout is an option of --wait');
  if (!wait) return {};
  if (timeout === undefined) return { waitForMigrationsMs: DEFAULT_MIGRATIONS_WAIT_MS };
  const parsed = duration().safeParse(timeout);
  if (!parsed.success || parsed.data <= 0)
    throw new Error(`--timeout=${timeout} is not a duration like 90s or 5m`);
  return { waitForMigrationsMs: parsed.data };
}
