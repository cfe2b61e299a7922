// ImportUsers against RegisterUser: how many users per second each brings in, then every imported
// user signs in and is rehashed. user-service runs in-process as main.ts builds it (production
// argon2id, m=19456 KiB, t=2, p=1), over real gRPC on loopback, on a fresh migrated Postgres schema.
// --users users are imported with bcrypt hashes in calls of 1000 rows (the maximum), --callers calls
// at a time; then --register users are registered with plaintext passwords by 16 concurrent callers
// (each registration hashes with argon2id, which is what an import skips; 2000 by default: a rate
// needs no 10k argon2id hashes on a loaded machine). Then every imported user (--sign-ins, all by
// default) signs in once through VerifyCredentials, the user-service half of StartSession, at most
// --sign-in-concurrency at a time: the first sign-in verifies bcrypt and rehashes to argon2id. Each
// must answer that user's id; afterwards the database must hold argon2id for every signed-in user
// (counted with SQL), or the run is INVALID. --second-sign-ins of them (1000 by default) then sign
// in again (argon2id verify only), for comparison.
//   npx tsx bench/import-users.ts [--users 10000] [--register 2000] [--callers 2] [--bcrypt-cost 4]
//                                 [--sign-ins <users>] [--sign-in-concurrency 8] [--second-sign-ins 1000]
import { parseArgs } from 'node:util';
import { callUnary, createClient } from '@warden/grpc';
import { userv1 } from '../libs/proto/src/index.js';
import { foreignHashes } from '../services/user-service/test/support/foreign-hashes.js';
import { drive, format, machine } from './lib/closed-loop.js';
import { KEYS, startUserService } from './lib/services.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    callers: { type: 'string', default: '2' },
    'bcrypt-cost': { type: 'string', default: '4' },
    register: { type: 'string', default: '2000' },
    'sign-ins': { type: 'string' },
    'sign-in-concurrency': { type: 'string', default: '8' },
    'second-sign-ins': { type: 'string', default: '1000' },
  },
});
const USERS = Number(values.users);
const REGISTER = Number(values.register);
const CALLERS = Number(values.callers);
const COST = Number(values['bcrypt-cost']);
const SIGN_INS = Math.min(Number(values['sign-ins'] ?? values.users), USERS);
/** Bounded: the hashing limiter queues at most 256 and the machine has few cores. */
const SIGN_IN_CONCURRENCY = Math.min(Math.max(1, Number(values['sign-in-concurrency'])), 64);
const SECOND_SIGN_INS = Math.min(Number(values['second-sign-ins']), SIGN_INS);
/** Bounds each phase's closed loop: a stuck service ends the run as INVALID, not never. */
const PHASE_MS = 60 * 60_000;
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
  const imported = await drive(CALLERS, PHASE_MS, async () => {
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
  const registrations = await drive(16, PHASE_MS, async () => {
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

  // Each imported user's id, to check that every sign-in answered its own user.
  const { rows: ids } = await service.db.pool.query<{ email: string; id: string }>(
    `SELECT email, id FROM users WHERE email LIKE 'imported-%'`,
  );
  const idOf = new Map(ids.map((row) => [row.email, row.id]));
  let wrongUser = 0;
  const signIn = async (i: number) => {
    const email = `imported-${i}@example.com`;
    const verified = await callUnary(
      sessionService.verifyCredentials,
      sessionService,
      { email, password: passwordOf(i) },
      undefined,
      DEADLINE_MS,
    );
    if (verified.userId !== idOf.get(email) || verified.mfaEnabled) wrongUser++;
  };
  let first = 0;
  const firstSignIns = await drive(SIGN_IN_CONCURRENCY, PHASE_MS, async () => {
    if (first >= SIGN_INS) return false;
    await signIn(first++);
    return true;
  });
  console.log(
    `first sign-in of ${SIGN_INS} imported users (bcrypt verify + argon2id rehash), ${SIGN_IN_CONCURRENCY} at a time  ${format(firstSignIns, 'op')}`,
  );
  // Every user the first pass signed in must now be stored as argon2id: counted in the database.
  const { rows: stored } = await service.db.pool.query<{
    signed_in: string;
    argon2id: string;
    bcrypt: string;
    other: string;
  }>(
    `SELECT count(*) AS signed_in,
            count(*) FILTER (WHERE password_hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%') AS argon2id,
            count(*) FILTER (WHERE password_hash LIKE '$2b$%') AS bcrypt,
            count(*) FILTER (WHERE password_hash NOT LIKE '$argon2id$v=19$m=19456,t=2,p=1$%'
                               AND password_hash NOT LIKE '$2b$%') AS other
       FROM users
      WHERE email LIKE 'imported-%'
        AND substring(email FROM 'imported-([0-9]+)@')::int < $1`,
    [SIGN_INS],
  );
  const { rows: untouched } = await service.db.pool.query<{ bcrypt: string }>(
    `SELECT count(*) FILTER (WHERE password_hash LIKE '$2b$%') AS bcrypt
       FROM users WHERE email LIKE 'imported-%'`,
  );
  const counts = stored[0]!;
  const allRehashed =
    Number(counts.signed_in) === SIGN_INS &&
    Number(counts.argon2id) === SIGN_INS &&
    Number(counts.bcrypt) === 0 &&
    Number(counts.other) === 0;
  console.log(
    `after the first sign-ins (SQL count): ${counts.argon2id} of ${counts.signed_in} signed-in imported users stored as argon2id (m=19456,t=2,p=1), ${counts.bcrypt} still bcrypt, ${counts.other} other; ${Number(untouched[0]!.bcrypt)} imported users never signed in still bcrypt`,
  );

  let second = 0;
  const secondSignIns = await drive(SIGN_IN_CONCURRENCY, PHASE_MS, async () => {
    if (second >= SECOND_SIGN_INS) return false;
    await signIn(second++);
    return true;
  });
  console.log(
    `second sign-in of ${SECOND_SIGN_INS} (argon2id verify only), ${SIGN_IN_CONCURRENCY} at a time  ${format(secondSignIns, 'op')}`,
  );

  const registerRate = registrations.rps;
  console.log(
    `\nImportUsers ${importRate.toFixed(0)} users/s vs RegisterUser ${registerRate.toFixed(1)} users/s: ${(importRate / registerRate).toFixed(1)} x; first sign-ins (rehash) ${firstSignIns.rps.toFixed(1)}/s, second ${secondSignIns.rps.toFixed(1)}/s   [${machine()}]`,
  );
  const clean =
    imported.errors === 0 &&
    registrations.errors === 0 &&
    firstSignIns.errors === 0 &&
    secondSignIns.errors === 0 &&
    refused === 0 &&
    importedRows === USERS &&
    registered >= REGISTER &&
    first >= SIGN_INS &&
    firstSignIns.count === SIGN_INS &&
    wrongUser === 0 &&
    allRehashed;
  if (!clean) {
    console.log(
      `INVALID: some calls failed, ran out of time or left users unrehashed (imported ${importedRows}/${USERS}, signed in ${firstSignIns.count}/${SIGN_INS}, wrong answers ${wrongUser}, all rehashed: ${allRehashed})`,
    );
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
