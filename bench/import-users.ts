// ImportUsers against RegisterUser: how many users per second each brings in. user-service runs
// in-process as main.ts builds it (production argon2id, m=19456 KiB, t=2, p=1), over real gRPC on
// loopback, on a fresh migrated Postgres schema. --users users are imported with bcrypt hashes in
// calls of 1000 rows (the maximum), --callers calls at a time; then as many are registered with
// plaintext passwords by 16 concurrent callers (each registration hashes with argon2id, which is
// what an import skips). Then a sample of imported users signs in: the first sign-in verifies bcrypt
// and rehashes to argon2id, the second verifies argon2id; their rates are printed too.
// --register registers fewer than --users (a rate needs no 10k argon2id hashes on a loaded machine).
//   npx tsx bench/import-users.ts [--users 10000] [--register 10000] [--callers 2] [--bcrypt-cost 4] [--sign-ins 200]
import { parseArgs } from 'node:util';
import { callUnary, createClient } from '@warden/grpc';
import { userv1 } from '../libs/proto/src/index.js';
import { foreignHashes } from '../services/user-service/test/support/foreign-hashes.js';
import { drive, format, machine } from './lib/closed-loop.js';
import { KEYS, startUserService } from './lib/services.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    register: { type: 'string' },
    callers: { type: 'string', default: '2' },
    'bcrypt-cost': { type: 'string', default: '4' },
    'sign-ins': { type: 'string', default: '200' },
  },
});
const USERS = Number(values.users);
const REGISTER = Number(values.register ?? values.users);
const CALLERS = Number(values.callers);
const COST = Number(values['bcrypt-cost']);
const SIGN_INS = Math.min(Number(values['sign-ins']), USERS);
const ROWS_PER_CALL = 1000;
/** Calls wait this long: a loaded machine must make the rates low, not the runs invalid. */
const DEADLINE_MS = 60_000;
const passwordOf = (i: number) => `imported password ${i}`;

const service = await startUserService();
const gateway = createClient(userv1.UserServiceClient, {
  address: service.address,
  serviceKey: KEYS.gateway,
});
const sessionService = createClient(userv1.UserServiceClient, {
  address: service.address,
  serviceKey: KEYS['session-service'],
});
try {
  console.log(
    `ImportUsers of ${USERS} users (bcrypt cost ${COST} hashes) vs RegisterUser of ${REGISTER} (argon2id m=19456,t=2,p=1)`,
  );
  console.log(`machine: ${machine()}`);
  // The foreign hashes are made before any clock starts: the other system made them long ago.
  const hashStarted = performance.now();
  const rows = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => ({
      email: `imported-${i}@example.com`,
      displayName: `Imported ${i}`,
      passwordHash: await foreignHashes.bcrypt(passwordOf(i), COST),
      emailVerified: i % 2 === 0,
      externalId: `legacy-${i}`,
      metadata: { 'public.source': 'legacy' },
    })),
  );
  console.log(
    `(prepared ${USERS} bcrypt hashes in ${((performance.now() - hashStarted) / 1000).toFixed(1)} s)`,
  );

  const batches = Array.from({ length: Math.ceil(USERS / ROWS_PER_CALL) }, (_, b) =>
    rows.slice(b * ROWS_PER_CALL, (b + 1) * ROWS_PER_CALL),
  );
  let nextBatch = 0;
  let refused = 0;
  let importedRows = 0;
  const imported = await drive(CALLERS, 10 * 60_000, async () => {
    const batch = batches[nextBatch++];
    if (!batch) return false;
    const { results } = await callUnary(
      gateway.importUsers,
      gateway,
      { users: batch, requestId: '' },
      undefined,
      DEADLINE_MS,
    );
    refused += results.filter((r) => r.errorReason !== '').length;
    importedRows += results.filter((r) => r.errorReason === '').length;
    return true;
  });
  const importRate = importedRows / (imported.count / imported.rps);
  console.log(`ImportUsers   ${format(imported, 'call')}   (${refused} rows refused)`);

  let registered = 0;
  const registrations = await drive(16, 10 * 60_000, async () => {
    if (registered >= REGISTER) return false;
    const i = registered++;
    await callUnary(
      gateway.registerUser,
      gateway,
      {
        email: `registered-${i}@example.com`,
        password: `registered password ${i}`,
        displayName: `Registered ${i}`,
        requestId: '',
      },
      undefined,
      DEADLINE_MS,
    );
    return true;
  });
  console.log(`RegisterUser  ${format(registrations, 'user')}`);

  const signIn = (i: number) =>
    callUnary(
      sessionService.verifyCredentials,
      sessionService,
      { email: `imported-${i}@example.com`, password: passwordOf(i) },
      undefined,
      DEADLINE_MS,
    );
  let first = 0;
  const firstSignIns = await drive(16, 10 * 60_000, async () => {
    if (first >= SIGN_INS) return false;
    await signIn(first++);
    return true;
  });
  let second = 0;
  const secondSignIns = await drive(16, 10 * 60_000, async () => {
    if (second >= SIGN_INS) return false;
    await signIn(second++);
    return true;
  });
  const { rows: stored } = await service.db.pool.query<{ argon2id: string; bcrypt: string }>(
    `SELECT count(*) FILTER (WHERE password_hash LIKE '$argon2id$%') AS argon2id,
            count(*) FILTER (WHERE password_hash LIKE '$2b$%') AS bcrypt
       FROM users WHERE email LIKE 'imported-%'`,
  );
  console.log(
    `first sign-in of imported users (bcrypt verify + argon2id rehash)  ${format(firstSignIns, 'op')}`,
  );
  console.log(
    `second sign-in (argon2id verify)                                  ${format(secondSignIns, 'op')}`,
  );
  console.log(
    `imported users now stored as argon2id: ${stored[0]!.argon2id}, still bcrypt: ${stored[0]!.bcrypt}`,
  );

  const registerRate = registrations.rps;
  console.log(
    `\nImportUsers ${importRate.toFixed(0)} users/s vs RegisterUser ${registerRate.toFixed(0)} users/s: ${(importRate / registerRate).toFixed(1)} x   [${machine()}]`,
  );
  const clean =
    imported.errors === 0 &&
    registrations.errors === 0 &&
    firstSignIns.errors === 0 &&
    secondSignIns.errors === 0 &&
    refused === 0;
  if (!clean) {
    console.log('INVALID: some calls failed (see the error counts above)');
    for (const [name, r] of Object.entries({
      imported,
      registrations,
      firstSignIns,
      secondSignIns,
    }))
      if (r.firstError) console.log(`  first error of ${name}: ${r.firstError}`);
  }
  process.exitCode = clean ? 0 : 1;
} finally {
  gateway.close();
  sessionService.close();
  await service.stop();
}
process.exit();
