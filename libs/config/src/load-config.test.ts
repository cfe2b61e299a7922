import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envNameFor, loadConfig } from './load-config.js';
import { databaseSection } from './sections.js';
import { duration, listOf } from './types.js';

const schema = z.object({
  grpc: z.object({ port: z.number().int().min(0).max(65535), host: z.string() }),
  database: databaseSection,
  session: z.object({ idle_timeout: duration(), secure: z.boolean() }),
  bootstrap_admins: listOf(z.string().email()),
});

function configFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-config-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    [
      'grpc:',
      '  port: 50051',
      '  host: 0.0.0.0',
      'database:',
      '  url: postgres://postgres@127.0.0.1:5432/warden',
      '  schema: user_service',
      '  pool_size: 10',
      'session:',
      '  idle_timeout: 30m',
      '  secure: false',
      'bootstrap_admins: []',
    ].join('\n'),
  );
  return file;
}

describe('loadConfig', () => {
  it('reads the YAML defaults and parses durations', () => {
    const config = loadConfig({ schema, file: configFile(), env: {} });
    expect(config.grpc.port).toBe(50051);
    expect(config.session.idle_timeout).toBe(30 * 60_000);
    expect(config.bootstrap_admins).toEqual([]);
  });

  it('lets WARDEN_* variables override every key, typed like the default', () => {
    const config = loadConfig({
      schema,
      file: configFile(),
      env: {
        WARDEN_GRPC_PORT: '6000',
        WARDEN_SESSION_SECURE: 'true',
        WARDEN_SESSION_IDLE_TIMEOUT: '90s',
        WARDEN_BOOTSTRAP_ADMINS: 'a@x.io, b@x.io',
      },
    });
    expect(config.grpc.port).toBe(6000);
    expect(config.session.secure).toBe(true);
    expect(config.session.idle_timeout).toBe(90_000);
    expect(config.bootstrap_admins).toEqual(['a@x.io', 'b@x.io']);
  });

  it('takes DATABASE_URL as an alias, with the WARDEN_ name winning', () => {
    const file = configFile();
    const aliases = { DATABASE_URL: 'database.url' };
    expect(
      loadConfig({ schema, file, aliases, env: { DATABASE_URL: 'postgres://h/db1' } }).database.url,
    ).toBe('postgres://h/db1');
    expect(
      loadConfig({
        schema,
        file,
        aliases,
        env: { DATABASE_URL: 'postgres://h/db1', WARDEN_DATABASE_URL: 'postgres://h/db2' },
      }).database.url,
    ).toBe('postgres://h/db2');
  });

  it('stops with one message naming the key and the variable that set it', () => {
    expect(() =>
      loadConfig({ schema, file: configFile(), env: { WARDEN_GRPC_PORT: 'abc' } }),
    ).toThrow(/grpc\.port \(from WARDEN_GRPC_PORT\)/);
    expect(() =>
      loadConfig({ schema, file: configFile(), env: { WARDEN_SESSION_IDLE_TIMEOUT: 'soon' } }),
    ).toThrow(/session\.idle_timeout.*not a duration/);
    expect(() =>
      loadConfig({ schema, file: configFile(), env: { WARDEN_DATABASE_SCHEMA: 'Bad-Name' } }),
    ).toThrow(ConfigError);
  });

  it('names a missing key with the variable that would set it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'grpc:\n  host: x\n');
    expect(() => loadConfig({ schema, file, env: {} })).toThrow(
      /grpc\.port \(set WARDEN_GRPC_PORT\)/,
    );
  });

  it('refuses an unreadable file with its path', () => {
    expect(() => loadConfig({ schema, file: '/nonexistent/config.yaml', env: {} })).toThrow(
      /cannot read \/nonexistent/,
    );
  });

  it('maps paths to env names', () => {
    expect(envNameFor('session.max_per_user')).toBe('WARDEN_SESSION_MAX_PER_USER');
  });
});
