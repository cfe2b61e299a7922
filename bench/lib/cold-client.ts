// bench/scale-authz.ts's cold checks from a client process of their own: the bench's process holds
// the seed's and the rounds' data, and its garbage collections (measured: 9 pauses during a cold
// phase, 8 over 2 ms, up to 14.5 ms) would stand in the latencies as authz's. The bench starts
// this one with a 1 MB semi-space (scavenges of about 1 ms instead of 5-9 ms). This process holds
// nothing but the requests, warms its own JIT and the server's on the --jit-warmup checks, says
// `warm`, waits for `go` on stdin (the bench reads authz's CPU and histogram then), runs the cold
// checks with --cold-concurrency callers and prints the Result of closed-loop's drive as JSON.
//   node --import tsx bench/lib/cold-client.ts <address> <requests.json> <concurrency>
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createClient } from '@warden/grpc';
import { authzv1 } from '../../libs/proto/src/index.js';
import { check, GATEWAY_KEY } from './authz-bundle.js';
import { drive } from './closed-loop.js';

const [address, requestsFile, concurrency] = process.argv.slice(2);
if (!address || !requestsFile || !concurrency)
  throw new Error('usage: cold-client.ts <address> <requests.json> <concurrency>');
const { warmup, cold } = JSON.parse(readFileSync(requestsFile, 'utf8')) as {
  warmup: unknown[];
  cold: unknown[];
};
const decode = (r: unknown) => authzv1.CheckPermissionRequest.fromJSON(r);
const [warmupRequests, coldRequests] = [warmup.map(decode), cold.map(decode)];
const client = createClient(authzv1.AuthzServiceClient, { address, serviceKey: GATEWAY_KEY });

const BATCH = 100;
for (let k = 0; k < warmupRequests.length; k += BATCH)
  await Promise.all(warmupRequests.slice(k, k + BATCH).map((request) => check(client, request)));
process.stdout.write('warm\n');
const lines = createInterface({ input: process.stdin });
await once(lines, 'line');
lines.close();

let next = 0;
const result = await drive(Number(concurrency), 120_000, async () => {
  if (next >= coldRequests.length) return false;
  return check(client, coldRequests[next++]!);
});
client.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
