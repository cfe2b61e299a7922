// What bench/check-permission.ts needs from this service (the repo root has no dependencies of its
// own, so the bench reaches grpc-js, the proto and the app through here).
import { randomBytes } from 'node:crypto';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { migrate } from '@warden/db';
import { createClient, createMetrics, GrpcServer } from '@warden/grpc';
import { authzv1 } from '@warden/proto';
import { testSchema } from '@warden/testing';
import { PrismaAuthzRepository } from '../../src/adapters/prisma/prisma-authz-repository.js';
import { createAuthzApp } from '../../src/app.js';
import { MIGRATIONS_DIR } from '../../src/config.js';
import { newAssignment } from '../../src/domain/index.js';
import { silentLogger } from './mothers.js';
import { seed } from './seed.js';

export type CheckRequest = authzv1.CheckPermissionRequest;
export const BENCH_KEY = 'bench-key-gateway-0000000';

export interface Running {
  address: string;
  stop(): Promise<void>;
}

/** The physical limit: a grpc-js unary CheckPermission handler that answers at once. */
export async function startNoopServer(): Promise<Running> {
  const server = new Server();
  const answer: authzv1.CheckPermissionResponse = {
    allowed: true,
    reason: 'no-op',
    stepUpRequired: false,
    revision: 0,
  };
  server.addService(
    { checkPermission: authzv1.AuthzServiceService.checkPermission },
    {
      checkPermission: (
        _call: unknown,
        callback: (error: null, response: authzv1.CheckPermissionResponse) => void,
      ) => callback(null, answer),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

const SERVICE_KEYS = {
  gateway: BENCH_KEY,
  'user-service': 'bench-key-user-service-000',
  'session-service': 'bench-key-session-service-0',
};

/**
 * The server kit as both the kit no-op and the real service run it: alike, so that the gap between
 * them is authz's own work, not a difference in the kit's settings.
 */
function kitServer(serviceName: string): GrpcServer {
  return new GrpcServer({
    serviceName,
    logger: silentLogger,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 1 << 20,
    serviceKeys: SERVICE_KEYS,
    rpcDuration: createMetrics(serviceName).rpcDuration,
  });
}

/** The server kit (identity, request id, trace, metrics) around a CheckPermission that answers at once. */
export async function startKitNoopServer(): Promise<Running> {
  const server = kitServer('kit-noop');
  const answer: authzv1.CheckPermissionResponse = {
    allowed: true,
    reason: 'no-op',
    stepUpRequired: false,
    revision: 0,
  };
  const unused = async () => {
    throw new Error('not benchmarked');
  };
  const handlers = Object.fromEntries(
    Object.keys(authzv1.AuthzServiceService).map((name) => [name, unused]),
  );
  server.addService(authzv1.AuthzServiceService, {
    ...handlers,
    checkPermission: async () => answer,
  } as never);
  const port = await server.listen();
  return { address: `127.0.0.1:${port}`, stop: () => server.shutdown(1_000) };
}

/**
 * The real authz-service in this process: migrated test schema, Prisma repository, the role
 * catalogue loaded and every subject read into the subject cache once (warm: the bench measures
 * checks answered from memory), the server kit with service keys and metrics. `subjects` users
 * hold `player`, every tenth also a custom role.
 */
export async function startAuthzServer(subjects: number): Promise<Running & { userIds: string[] }> {
  const db = await testSchema('bench_authz', 4);
  await migrate(db.pool, { schema: db.schema, migrationsDir: MIGRATIONS_DIR });
  const repository = new PrismaAuthzRepository(db.pool);
  const now = new Date();
  const userIds = Array.from({ length: subjects }, () => uuid());
  await seed(repository, {
    roles: [
      {
        name: 'moderator',
        description: '',
        permissions: ['chat.*'],
        inherits: ['player'],
        builtIn: false,
        createTime: now,
        updateTime: now,
      },
    ],
    assignments: userIds.flatMap((subjectId, i) => [
      newAssignment({ subjectId, role: 'player' }, now),
      ...(i % 10 === 0 ? [newAssignment({ subjectId, role: 'moderator' }, now)] : []),
    ]),
  });
  const app = createAuthzApp({ repository, logger: silentLogger });
  await app.sync.loadCatalogue();
  for (let i = 0; i < userIds.length; i += 500)
    await Promise.all(userIds.slice(i, i + 500).map((id) => app.model.assignmentsOf(id)));
  const server = kitServer('authz-service');
  server.addService(authzv1.AuthzServiceService, app.grpc);
  const port = await server.listen();
  return {
    address: `127.0.0.1:${port}`,
    userIds,
    async stop() {
      await server.shutdown(1_000);
      await db.drop();
    },
  };
}

/** The one client both servers are driven with: the kit's channel with the service key. */
export function benchClient(address: string) {
  const client = createClient(authzv1.AuthzServiceClient, { address, serviceKey: BENCH_KEY });
  const check = (request: CheckRequest) =>
    new Promise<authzv1.CheckPermissionResponse>((resolve, reject) =>
      client.checkPermission(request, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
  return { check, close: () => client.close() };
}

function uuid(): string {
  const hex = randomBytes(16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
}
