import type { AuditLog, UserPrincipal } from '@warden/bus';
import { unauthenticated } from '@warden/errors';
import { MemoryAuthzRepository } from '../../src/adapters/memory/memory-authz-repository.js';
import { createAuthzApp } from '../../src/app.js';
import type { AuthzRepository, Clock } from '../../src/application/ports.js';
import { createAuthzServer } from '../../src/server.js';
import { silentLogger } from './mothers.js';

export const SERVICE_KEYS = {
  'user-service': 'test-key-user-service-000',
  gateway: 'test-key-gateway-000000000',
};

/** The real gRPC server on 127.0.0.1:0 over the given repository; tokens map to users by `tokens`. */
export async function startAuthzServer(
  options: {
    repository?: AuthzRepository;
    clock?: Clock;
    tokens?: Map<string, UserPrincipal>;
    subjectCacheMax?: number;
    /** The trail ListAuditEvents reads; an empty memory one by default. */
    auditLog?: AuditLog;
  } = {},
) {
  const repository = options.repository ?? new MemoryAuthzRepository();
  const tokens = options.tokens ?? new Map<string, UserPrincipal>();
  const app = createAuthzApp({
    repository,
    logger: silentLogger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.subjectCacheMax ? { subjectCacheMax: options.subjectCacheMax } : {}),
    ...(options.auditLog ? { auditLog: options.auditLog } : {}),
  });
  await app.sync.resync();
  const server = createAuthzServer(app, {
    logger: silentLogger,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 1 << 20,
    serviceKeys: SERVICE_KEYS,
    resolveUser: async (token) => {
      const principal = tokens.get(token);
      if (!principal) throw unauthenticated('SESSION_NOT_FOUND', 'unknown session token');
      return principal;
    },
  });
  const port = await server.listen();
  return {
    app,
    repository,
    tokens,
    server,
    address: `127.0.0.1:${port}`,
    close: () => server.shutdown(1_000),
  };
}
