import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromServiceError } from '@warden/grpc';
import type { sessionv1, userv1 } from '@warden/proto';
import { freePort, waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGateway,
  GatewayError,
  grpcSessionApi,
  MemoryCheckpointStore,
  type Gateway,
} from '../../libs/gateway/src/index.js';
import { bootstrapAdmin, registerPlayer, signIn as signInAs } from '../support/flows.js';
import { call, GATEWAY_KEY, startStack, type Stack } from '../support/stack.js';

// The gateway against the real platform: access tokens from session-service, the revocation feed
// over JetStream, and a gateway process killed in the middle of the feed.
const ROOT = join(import.meta.dirname, '..', '..');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const ISSUER = 'warden-e2e';

let stack: Stack;
let metricsPort: number;
let admin: { token: string };

beforeAll(async () => {
  metricsPort = await freePort();
  stack = await startStack({
    env: {
      session: {
        WARDEN_ACCESS_TOKENS_ENABLED: 'true',
        WARDEN_ACCESS_TOKENS_ISSUER: ISSUER,
        WARDEN_METRICS_PORT: String(metricsPort),
      },
    },
  });
  admin = await bootstrapAdmin(stack);
}, 240_000);

afterAll(() => stack?.stop(), 60_000);

type SignedIn = Awaited<ReturnType<typeof signInAs>>;
const signIn = (email: string): Promise<SignedIn> => signInAs(stack, email);

/**
 * A registered user holding the default role: its grant is a roles change too, and would refuse
 * tokens issued before it (a client signing in that early refreshes once).
 */
async function newUser(label: string): Promise<userv1.User> {
  const user = await registerPlayer(stack, `${label}-${randomUUID()}@example.com`);
  // iat has whole seconds: a token from the grant's own second counts as older than it.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return user;
}

const outcome = (gateway: Gateway, token: string, why = false) =>
  gateway.authenticate({ authorization: `Bearer ${token}` }).then(
    () => 'accepted',
    (e: unknown) =>
      e instanceof GatewayError ? (why ? `${e.code}: ${e.message}` : e.code) : String(e),
  );

/** A gateway in this process, following the stack's session-service. */
async function inProcessGateway(jwksUrl?: string): Promise<Gateway> {
  const gateway = createGateway({
    session: grpcSessionApi({ address: stack.addresses.session, serviceKey: GATEWAY_KEY }),
    issuer: ISSUER,
    checkpoints: new MemoryCheckpointStore(),
    ...(jwksUrl ? { jwksUrl } : {}),
  });
  await gateway.ready();
  await waitFor(() => gateway.status().connected, { what: 'gateway feed' });
  // session-service's headers carried the feed's start cursor: a reconnect resumes from there.
  expect(gateway.status().cursor).not.toBe('');
  // Tokens issued before the gateway followed the feed are refused: start after its first second.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  return gateway;
}

describe('access tokens', () => {
  it('come with StartSession and RefreshSession, verify against GetJwks and /.well-known/jwks.json', async () => {
    const user = await newUser('tokens');
    const signedIn = await signIn(user.email);
    expect(signedIn.accessToken.split('.')).toHaveLength(3);
    const header = JSON.parse(
      Buffer.from(signedIn.accessToken.split('.')[0]!, 'base64url').toString(),
    ) as { kid: string; alg: string; typ: string };
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    const kid = header.kid;

    const { keys } = await call<sessionv1.GetJwksRequest, sessionv1.GetJwksResponse>(
      stack.sessions,
      'getJwks',
      {},
    );
    expect(keys.map((k) => k.kid)).toContain(kid);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });

    const http = await fetch(`http://127.0.0.1:${metricsPort}/.well-known/jwks.json`);
    expect(http.status).toBe(200);
    expect(http.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(
      ((await http.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid),
    ).toEqual(keys.map((k) => k.kid));

    const refreshed = await call<sessionv1.RefreshSessionRequest, sessionv1.RefreshSessionResponse>(
      stack.sessions,
      'refreshSession',
      { token: signedIn.token },
    );
    expect(refreshed.accessToken).not.toBe(signedIn.accessToken);
    expect(refreshed.accessTokenExpireTime!.getTime()).toBeGreaterThan(Date.now());

    const gateway = await inProcessGateway(`http://127.0.0.1:${metricsPort}/.well-known/jwks.json`);
    const fresh = await signIn(user.email);
    await expect(
      gateway.authenticate({ authorization: `Bearer ${fresh.accessToken}` }),
    ).resolves.toMatchObject({
      userId: user.id,
      sessionId: fresh.session.id,
      aal: 'aal1',
      via: 'access_token',
    });
    await expect(
      gateway.authenticate({ authorization: `Bearer ${fresh.token}` }),
    ).resolves.toMatchObject({ userId: user.id, via: 'session_token' });
    await gateway.close();
  });

  it('are refused by the gateway after EndSession, DisableUser and RevokeRole', async () => {
    const gateway = await inProcessGateway();
    const [ended, disabled, revoked] = await Promise.all([
      newUser('ended'),
      newUser('disabled'),
      newUser('revoked'),
    ]);
    const [a, b, c] = await Promise.all([
      signIn(ended.email),
      signIn(disabled.email),
      signIn(revoked.email),
    ]);
    for (const s of [a, b, c]) expect(await outcome(gateway, s.accessToken, true)).toBe('accepted');

    await call(stack.sessions, 'endSession', { sessionId: a.session.id }, a.token);
    await call(stack.users, 'disableUser', { userId: disabled.id, reason: 'e2e' }, admin.token);
    await waitFor(
      async () =>
        (await call<{ subjectId: string; role: string }, unknown>(
          stack.authz,
          'revokeRole',
          { subjectId: revoked.id, role: 'player' },
          admin.token,
        ).then(
          () => true,
          () => false,
        )) || undefined,
      { timeoutMs: 15_000, what: 'player role to revoke' },
    );
    for (const s of [a, b, c])
      await waitFor(async () => (await outcome(gateway, s.accessToken)) === 'TOKEN_REVOKED', {
        timeoutMs: 10_000,
        what: `revocation of ${s.session.id}`,
      });
    await gateway.close();
  });
});

describe('WatchRevocations', () => {
  const watchOnce = async (after: string, serviceKey = GATEWAY_KEY) => {
    const api = grpcSessionApi({ address: stack.addresses.session, serviceKey });
    const abort = new AbortController();
    try {
      for await (const item of api.watchRevocations(after, abort.signal)) return item;
      return undefined;
    } catch (error) {
      const appError = fromServiceError(error as Error);
      return `${appError.kind} ${appError.reason}`;
    } finally {
      abort.abort();
      api.close();
    }
  };

  it('refuses a garbage cursor, a cursor past the streams, and services not named', async () => {
    expect(await watchOnce('garbage!')).toBe('INVALID_ARGUMENT INVALID_CURSOR');
    const far = Buffer.alloc(25, 0);
    far[0] = 1;
    far.writeBigUInt64BE(10n ** 12n, 1);
    expect(await watchOnce(far.toString('base64url'))).toBe('OUT_OF_RANGE CURSOR_EXPIRED');
    expect(await watchOnce('', 'dev-key-user-service-000')).toBe(
      'PERMISSION_DENIED PERMISSION_DENIED',
    );
  });
});

describe('a gateway process killed mid-stream', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resumes from its checkpoint: nothing missed, nothing twice, sessions ended meanwhile refused', async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-gateway-'));
    const checkpointFile = join(dir, 'checkpoint.json');
    let output = '';
    const port = await freePort();
    const start = async () => {
      const process_ = spawn(
        process.execPath,
        ['--import', TSX_LOADER, join('tests', 'support', 'gateway-process.ts')],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            GATEWAY_SESSION_ADDRESS: stack.addresses.session,
            GATEWAY_KEY,
            GATEWAY_ISSUER: ISSUER,
            GATEWAY_CHECKPOINT: checkpointFile,
            GATEWAY_PORT: String(port),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      output = '';
      process_.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      process_.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(() => output.includes('gateway listening'), {
        timeoutMs: 60_000,
        what: `gateway process (${output})`,
      });
      await waitFor(
        async () =>
          (
            (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
              connected: boolean;
            }
          ).connected,
        { what: 'gateway feed' },
      );
      return process_;
    };
    const auth = async (token: string) => {
      const response = await fetch(`http://127.0.0.1:${port}/auth`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return response.status === 200
        ? 'accepted'
        : ((await response.json()) as { code: string }).code;
    };
    // The items each process made durable, journaled in the checkpoint itself (one atomic save):
    // a kill between saving and writing a separate log would lose a line for an item saved.
    const logged = (): Array<{ pid: number; sessionId: string; kind: string }> =>
      existsSync(checkpointFile)
        ? ((JSON.parse(readFileSync(checkpointFile, 'utf8')) as { journal?: [] }).journal ?? [])
        : [];

    child = await start();
    const firstPid = child.pid;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const users = await Promise.all([0, 1, 2, 3].map((i) => newUser(`resume${i}`)));
    const sessions: SignedIn[] = [];
    for (const user of users) for (let i = 0; i < 4; i++) sessions.push(await signIn(user.email));
    const kept = await signIn(users[0]!.email);
    const held = sessions.at(-1)!;
    expect(await auth(held.accessToken)).toBe('accepted');
    const ours = new Set(sessions.map((s) => s.session.id));
    const ourEnds = () =>
      logged().filter((e) => e.kind === 'SESSION_ENDED' && ours.has(e.sessionId));

    const end = (s: SignedIn) =>
      call(stack.sessions, 'endSession', { sessionId: s.session.id }, s.token);
    for (const s of sessions.slice(0, 8)) await end(s);
    await waitFor(() => ourEnds().length >= 3 || undefined, {
      timeoutMs: 20_000,
      what: 'checkpoints',
    });
    child.kill('SIGKILL'); // mid-stream: some ends applied and saved, others not yet
    await new Promise((resolve) => child!.once('exit', resolve));
    for (const s of sessions.slice(8)) await end(s);

    child = await start();
    // The restarted gateway reopens the feed from its checkpoint and catches up on the backlog.
    await waitFor(() => ourEnds().length >= sessions.length || undefined, {
      timeoutMs: 60_000,
      what: 'all 16 ends checkpointed',
    }).catch((error: unknown) => {
      throw new Error(
        `${String(error)}; journaled ${JSON.stringify(ourEnds())}; gateway said: ${output}`,
      );
    });
    const ends = ourEnds();
    // Every end exactly once across both processes, none lost in the kill.
    expect(ends.map((e) => e.sessionId).sort()).toEqual([...ours].sort());
    expect(new Set(ends.map((e) => e.pid))).toEqual(new Set([firstPid, child.pid]));
    // The session ended while no gateway ran is refused; one never ended is still accepted.
    expect(await auth(held.accessToken)).toBe('TOKEN_REVOKED');
    expect(await auth(kept.accessToken)).toBe('accepted');
  }, 180_000);
});
