// The floor under bench/scale-authz.ts's cold checks: what a cold check cannot do without, in a
// process of its own as authz-service is. A bare grpc-js CheckPermission whose handler makes the
// one read a cold check needs (authz-service's prepared statement for a subject's assignments, on
// the same schema, over a pg pool) and answers; no server kit, no bus, no cache, no policy. The
// latency a client sees from it is this machine's for a gRPC call plus an indexed Postgres read:
// scheduling the client, this process and a Postgres backend on the same cores included.
// Prints `listening <address>` once bound; ends on SIGTERM.
//   node --import tsx services/authz-service/test/support/cold-floor-server.ts <database url> <schema>
import { Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { authzv1 } from '@warden/proto';
import pg from 'pg';
import { ASSIGNMENTS_OF_SQL } from '../../src/adapters/prisma/authz-sql.js';

const [databaseUrl, schema] = process.argv.slice(2);
if (!databaseUrl || !schema) throw new Error('usage: cold-floor-server.ts <database url> <schema>');

const pool = new pg.Pool({
  connectionString: databaseUrl,
  max: 10,
  options: `-c search_path="${schema.replaceAll('"', '""')}"`,
});
// An idle connection Postgres drops is replaced on the next query; the call in flight answers UNAVAILABLE.
pool.on('error', () => undefined);
const server = new Server();
server.addService(
  { checkPermission: authzv1.AuthzServiceService.checkPermission },
  {
    checkPermission: (
      call: { request: authzv1.CheckPermissionRequest },
      callback: (
        error: Partial<ServiceError> | null,
        response?: authzv1.CheckPermissionResponse,
      ) => void,
    ) => {
      pool
        .query({
          name: 'warden-assignments-of',
          text: ASSIGNMENTS_OF_SQL,
          values: [call.request.subjectId],
        })
        .then(
          ({ rows }) =>
            callback(null, {
              allowed: rows.length > 0,
              reason: 'floor',
              stepUpRequired: false,
              revision: 0,
            }),
          (error: Error) => callback({ code: status.UNAVAILABLE, details: error.message }),
        );
    },
  },
);
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
    error ? reject(error) : resolve(bound),
  ),
);
process.stdout.write(`listening 127.0.0.1:${port}\n`);
process.once('SIGTERM', () => {
  server.forceShutdown();
  void pool.end().then(() => process.exit(0));
});
