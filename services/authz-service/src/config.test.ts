import { describe, expect, it } from 'vitest';
import { loadAuthzConfig } from './config.js';

describe('authz-service config', () => {
  it('loads the shipped config.yaml', () => {
    const config = loadAuthzConfig({});
    expect(config.grpc.port).toBe(50053);
    expect(config.metrics.port).toBe(9453);
    expect(config.database.schema).toBe('authz_service');
    expect(config.authz.default_role).toBe('player');
    expect(config.authz.catalogue_reload_interval).toBe(60_000);
    expect(config.authz.subject_cache_max).toBe(100_000);
    expect(config.session.cache_max).toBe(10_000);
    expect(Object.keys(config.auth.service_keys).sort()).toEqual([
      'authz-service',
      'gateway',
      'session-service',
      'user-service',
    ]);
  });

  it('takes overrides from the environment, normalizing bootstrap admin emails and user ids', () => {
    const config = loadAuthzConfig({
      WARDEN_AUTHZ_BOOTSTRAP_ADMINS:
        'Ops@Example.com, root@example.com, 0190C7A6-1E1B-7C3D-9F00-0123456789AB',
      WARDEN_AUTHZ_DEFAULT_ROLE: 'guest',
      DATABASE_URL: 'postgres://db.internal/warden',
    });
    expect(config.authz.bootstrap_admins).toEqual([
      'ops@example.com',
      'root@example.com',
      '0190c7a6-1e1b-7c3d-9f00-0123456789ab',
    ]);
    expect(config.authz.default_role).toBe('guest');
    expect(config.database.url).toBe('postgres://db.internal/warden');
  });

  it('grants email bootstrap admins only to verified emails unless a dev stack turns it off', () => {
    expect(loadAuthzConfig({}).authz.bootstrap_requires_verified_email).toBe(true);
    expect(
      loadAuthzConfig({ WARDEN_AUTHZ_BOOTSTRAP_REQUIRES_VERIFIED_EMAIL: 'false' }).authz
        .bootstrap_requires_verified_email,
    ).toBe(false);
  });

  it('refuses a bad value, naming the key and the variable', () => {
    expect(() => loadAuthzConfig({ WARDEN_AUTHZ_BOOTSTRAP_ADMINS: 'not-an-email' })).toThrow(
      /authz\.bootstrap_admins.*WARDEN_AUTHZ_BOOTSTRAP_ADMINS.*email or a user id/s,
    );
    expect(() => loadAuthzConfig({ WARDEN_WORKER_EXPIRY_SWEEP_INTERVAL: 'often' })).toThrow(
      /worker\.expiry_sweep_interval/,
    );
    // The subject cache is what bounds the server's memory: it cannot be off or unbounded.
    for (const bad of ['0', '-1', '1.5', '100000001'])
      expect(() => loadAuthzConfig({ WARDEN_AUTHZ_SUBJECT_CACHE_MAX: bad }), bad).toThrow(
        /authz\.subject_cache_max/,
      );
    expect(
      loadAuthzConfig({ WARDEN_AUTHZ_SUBJECT_CACHE_MAX: '5000' }).authz.subject_cache_max,
    ).toBe(5_000);
  });
});
