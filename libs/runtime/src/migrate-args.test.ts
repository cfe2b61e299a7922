import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_WAIT_MS, migrateArgs } from './migrate-args.js';

describe('migrateArgs', () => {
  it('applies the migrations without arguments', () => {
    expect(migrateArgs([])).toEqual({});
  });

  it('only waits with --wait, for the default time or --timeout', () => {
    expect(migrateArgs(['--wait'])).toEqual({ waitForMigrationsMs: DEFAULT_MIGRATIONS_WAIT_MS });
    expect(migrateArgs(['--wait', '--timeout=90s'])).toEqual({ waitForMigrationsMs: 90_000 });
    expect(migrateArgs(['--timeout=5m', '--wait'])).toEqual({ waitForMigrationsMs: 300_000 });
  });

  it('refuses anything else', () => {
    expect(() => migrateArgs(['--force'])).toThrow('unknown argument "--force"');
    expect(() => migrateArgs(['--timeout=5m'])).toThrow('--timeout is an option of --wait');
    expect(() => migrateArgs(['--wait', '--timeout=soon'])).toThrow(
      '--timeout=soon is not a duration',
    );
    expect(() => migrateArgs(['--wait', '--timeout=0s'])).toThrow('is not a duration');
  });
});
