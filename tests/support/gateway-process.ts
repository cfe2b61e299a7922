// A gateway as its own process, for tests that kill it: @warden/gateway behind a tiny HTTP server.
// GET /auth answers the principal of the request's Authorization header (200) or the refusal's
// status and code; every checkpointed feed item is appended to GATEWAY_LOG as a JSON line.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import {
  createGateway,
  FileCheckpointStore,
  GatewayError,
  grpcSessionApi,
} from '../../libs/gateway/src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const gateway = createGateway({
  session: grpcSessionApi({
    address: env('GATEWAY_SESSION_ADDRESS'),
    serviceKey: env('GATEWAY_KEY'),
  }),
  issuer: env('GATEWAY_ISSUER'),
  checkpoints: new FileCheckpointStore(env('GATEWAY_CHECKPOINT')),
  onCheckpoint(items) {
    if (items.length === 0) return;
    appendFileSync(
      env('GATEWAY_LOG'),
      items.map((i) => `${JSON.stringify({ pid: process.pid, ...i })}\n`).join(''),
    );
  },
});
await gateway.ready();

const server = createServer((request, response) => {
  if (request.url === '/status') {
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(gateway.status()));
    return;
  }
  gateway.authenticate(request.headers).then(
    (principal) =>
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(principal)),
    (error: unknown) => {
      const status = error instanceof GatewayError ? error.status : 500;
      const code = error instanceof GatewayError ? error.code : 'INTERNAL';
      response
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code }));
    },
  );
});
server.listen(Number(env('GATEWAY_PORT')), '127.0.0.1', () =>
  process.stdout.write('gateway listening\n'),
);
process.once('SIGTERM', () => {
  server.close();
  void gateway.close().then(() => process.exit(0));
});
