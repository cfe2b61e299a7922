import { describe, expect, it } from 'vitest';
import { loadSessionConfig } from './config.js';

describe('session-service config', () => {
  it('loads the defaults as milliseconds', () => {
    const config = loadSessionConfig({});
    expect(config.grpc.port).toBe(50052);
    expect(config.metrics.port).toBe(9452);
    expect(config.database.schema).toBe('session_service');
    expect(config.session).toEqual({
      absolute_ttl: 86_400_000,
      idle_timeout: 1_800_000,
      max_per_user: 10,
      token_bytes: 32,
      last_seen_flush_interval: 1_000,
    });
    expect(config.watch.allowed_services).toEqual(['gateway']);
    expect(config.auth.service_keys.gateway).toBe('dev-key-gateway-000000000');
  });

  it('takes overrides from the environment', () => {
    const config = loadSessionConfig({
      WARDEN_GRPC_PORT: '0',
      WARDEN_SESSION_IDLE_TIMEOUT: '2s',
      WARDEN_WATCH_ALLOWED_SERVICES: 'gateway,audit',
      DATABASE_URL: 'postgres://u@db:5432/warden',
    });
    expect(config.grpc.port).toBe(0);
    expect(config.session.idle_timeout).toBe(2_000);
    expect(config.watch.allowed_services).toEqual(['gateway', 'audit']);
    expect(config.database.url).toBe('postgres://u@db:5432/warden');
  });

  it.each([
    [{ WARDEN_SESSION_TOKEN_BYTES: '16' }, /session\.token_bytes.*WARDEN_SESSION_TOKEN_BYTES/],
    [
      { WARDEN_SESSION_IDLE_TIMEOUT: '48h' },
      /session\.idle_timeout.*must not exceed session\.absolute_ttl/,
    ],
    [{ WARDEN_SESSION_ABSOLUTE_TTL: 'soon' }, /session\.absolute_ttl/],
    [{ WARDEN_SESSION_LAST_SEEN_FLUSH_INTERVAL: '1h' }, /session\.last_seen_flush_interval/],
    [{ WARDEN_SESSION_MAX_PER_USER: '0' }, /session\.max_per_user/],
    [{ WARDEN_CACHE_MAX_ENTRIES: '-1' }, /cache\.max_entries/],
    [{ WARDEN_USER_SERVICE_ADDRESS: 'nohost' }, /user_service\.address/],
  ])('refuses %o naming the key', (env, message) => {
    expect(() => loadSessionConfig(env)).toThrow(message);
  });
});
