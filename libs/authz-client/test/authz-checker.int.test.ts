import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { AppError } from '@warden/errors';
import { newEvent, toNatsHeaders } from '@warden/events';
import { GrpcServer } from '@warden/grpc';
import { createLogger } from '@warden/logger';
import { authzEventsV1, authzv1 } from '@warden/proto';
import {
  natsConnectOptionsFor,
  startWardenNats,
  uniqueName,
  waitFor,
  type WardenNats,
} from '@warden/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthzChecker, type AuthzChecker, type AuthzCheckerOptions } from '../src/index.js';

const logger = createLogger({ service: 'authz-client-test', level: 'silent' });
const SERVICE_KEY = 'test-key-authz-client-0000';

/** A stand-in authz-service: grants from a table, counts the questions it was asked. */
class FakeAuthz {
  readonly asked: authzv1.CheckPermissionRequest[] = [];
  grants = new Set<string>();
  failing = false;
  /** The revision its answers reflect (at least the one asked for, as authz-service does). */
  revision = 0;

  async checkPermission(
    request: authzv1.CheckPermissionRequest,
  ): Promise<authzv1.CheckPermissionResponse> {
    this.asked.push(request);
    if (this.failing) throw new Error('database down');
    const aal2 = request.assuranceLevel === authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2;
    const stepUp = this.grants.has(`${request.subjectId} ${request.permission}@aal2`);
    const allowed =
      this.grants.has(`${request.subjectId} ${request.permission}`) || (stepUp && aal2);
    return {
      allowed,
      reason: allowed ? 'granted by fake' : `no role grants ${request.permission}`,
      stepUpRequired: !allowed && stepUp,
      revision: Math.max(this.revision, request.minRevision ?? 0),
    };
  }
}

let fake: FakeAuthz;
let server: GrpcServer;
let address: string;
let nc: NatsConnection;
/**
 * A nats-server of this file's own: the run's server carries the authz events other files' stacks
 * publish, and one of them (a role change drops every decision; a revision breaks the count of
 * those heard) would decide these tests' outcome.
 */
let nats: WardenNats;
const checkers: AuthzChecker[] = [];

function aChecker(
  options: Partial<Pick<AuthzCheckerOptions, 'nc' | 'cacheTtlMs' | 'metrics'>> = {},
): AuthzChecker {
  const checker = createAuthzChecker({
    address,
    serviceKey: SERVICE_KEY,
    logger,
    deadlineMs: 1_000,
    ...options,
  });
  checkers.push(checker);
  return checker;
}

beforeAll(async () => {
  fake = new FakeAuthz();
  server = new GrpcServer({
    serviceName: 'fake-authz',
    logger,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 1 << 20,
    serviceKeys: { 'user-service': SERVICE_KEY },
  });
  const unimplemented = async () => {
    throw new Error('not part of the fake');
  };
  server.addService(authzv1.AuthzServiceService, {
    checkPermission: (request: authzv1.CheckPermissionRequest) => fake.checkPermission(request),
    checkPermissions: unimplemented,
    listSubjectPermissions: unimplemented,
    assignRole: unimplemented,
    revokeRole: unimplemented,
    listRoleAssignments: unimplemented,
    createRole: unimplemented,
    updateRole: unimplemented,
    deleteRole: unimplemented,
    getRole: unimplemented,
    lookupSubjects: unimplemented,
    planPermission: unimplemented,
    listAuditEvents: unimplemented,
    listRoles: unimplemented,
  });
  address = `127.0.0.1:${await server.listen()}`;
  // authz-service's own credentials: only it may publish the authz events the checker hears.
  nats = await startWardenNats();
  nc = await connect(natsConnectOptionsFor(nats, 'authz-service'));
});

afterEach(async () => {
  await Promise.all(checkers.splice(0).map((checker) => checker.close()));
  fake.asked.length = 0;
  fake.grants.clear();
  fake.failing = false;
  fake.revision = 0;
});

afterAll(async () => {
  await server.shutdown(1_000);
  await nc.close();
  await nats.stop();
});

/** An authz event as the relay publishes it: CloudEvents headers (ce-subject: what it is about). */
function publishEvent(
  type: string,
  subjectId?: string,
  source = 'authz-service',
  payload = new Uint8Array(),
): void {
  const event = newEvent({
    type,
    source,
    payload,
    ...(subjectId ? { subjectId } : {}),
  });
  nc.publish(type, event.payload, { headers: toNatsHeaders(event) });
}

describe('createAuthzChecker', () => {
  it('answers from authz-service, passing the resource along', async () => {
    fake.grants.add('u1 session.end');
    const checker = aChecker();

    const decision = await checker.check('u1', 'session.end', {
      type: 'session',
      id: 's1',
      ownerId: 'u1',
    });

    expect(decision).toEqual({ allowed: true, reason: 'granted by fake' });
    expect(fake.asked[0]).toEqual({
      subjectId: 'u1',
      permission: 'session.end',
      resource: { type: 'session', id: 's1', ownerId: 'u1' },
    });
  });

  it("passes the session's assurance level, and keeps AAL1 and AAL2 answers apart in the cache", async () => {
    fake.grants.add('u1 user.remove_mfa@aal2');
    const checker = aChecker({ cacheTtlMs: 60_000 });
    const mine = { type: 'user', id: 'u1', ownerId: 'u1' };
    expect(await checker.check('u1', 'user.remove_mfa', mine, 'AAL1')).toEqual({
      allowed: false,
      reason: 'no role grants user.remove_mfa',
      stepUpRequired: true,
    });
    expect(await checker.check('u1', 'user.remove_mfa', mine, 'AAL2')).toEqual({
      allowed: true,
      reason: 'granted by fake',
    });
    expect(fake.asked.map((r) => r.assuranceLevel)).toEqual([
      authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
      authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2,
    ]);
    // Each level answered from its own cache entry.
    expect((await checker.check('u1', 'user.remove_mfa', mine, 'AAL1')).allowed).toBe(false);
    expect((await checker.check('u1', 'user.remove_mfa', mine, 'AAL2')).allowed).toBe(true);
    expect(fake.asked).toHaveLength(2);
  });

  it('returns a denial as a decision, not an error', async () => {
    const decision = await aChecker().check('u1', 'user.list', { type: 'user' });
    expect(decision).toEqual({ allowed: false, reason: 'no role grants user.list' });
  });

  it('serves a repeated question from the cache within the TTL', async () => {
    fake.grants.add('u1 game.join');
    const checker = aChecker({ cacheTtlMs: 60_000 });

    await checker.check('u1', 'game.join', { type: 'game' });
    const second = await checker.check('u1', 'game.join', { type: 'game' });

    expect(second.allowed).toBe(true);
    expect(fake.asked).toHaveLength(1);
  });

  it('never answers a check with min_revision from a decision older than it', async () => {
    fake.grants.add('u1 game.join');
    fake.revision = 3;
    const checker = aChecker({ cacheTtlMs: 60_000 });
    const join = (minRevision?: number) =>
      checker.check('u1', 'game.join', { type: 'game' }, undefined, minRevision);
    expect((await join()).allowed).toBe(true); // cached, reflecting revision 3
    fake.grants.delete('u1 game.join'); // revoked at revision 4; its event has not come
    fake.revision = 4;
    expect((await join(3)).allowed).toBe(true); // the entry is new enough for 3
    expect(fake.asked).toHaveLength(1);
    expect((await join(4)).allowed).toBe(false); // older than 4: asked again, with it
    expect(fake.asked.at(-1)?.minRevision).toBe(4);
    // The fresh answer replaced the entry: later checks, with or without it, see the revoke.
    expect((await join(4)).allowed).toBe(false);
    expect((await join()).allowed).toBe(false);
    expect(fake.asked).toHaveLength(2);
  });

  it('a check with min_revision does not join an older lookup in flight', async () => {
    fake.grants.add('u1 game.join');
    const checker = aChecker({ cacheTtlMs: 60_000 });
    const [plain, fresh] = await Promise.all([
      checker.check('u1', 'game.join', { type: 'game' }),
      checker.check('u1', 'game.join', { type: 'game' }, undefined, 1),
    ]);
    expect([plain.allowed, fresh.allowed]).toEqual([true, true]);
    expect(fake.asked.map((r) => r.minRevision)).toEqual([undefined, 1]);
  });

  it('asks once for concurrent identical questions', async () => {
    const checker = aChecker({ cacheTtlMs: 60_000 });
    await Promise.all(
      Array.from({ length: 10 }, () => checker.check('u1', 'game.join', { type: 'game' })),
    );
    expect(fake.asked).toHaveLength(1);
  });

  it('does not share a decision between different owners', async () => {
    const checker = aChecker({ cacheTtlMs: 60_000 });
    await checker.check('u1', 'session.end', { type: 'session', id: 's1', ownerId: 'u1' });
    await checker.check('u1', 'session.end', { type: 'session', id: 's1', ownerId: 'u2' });
    expect(fake.asked).toHaveLength(2);
  });

  it('caches nothing without NATS unless a TTL is asked for', async () => {
    const checker = aChecker();
    await checker.check('u1', 'game.join', { type: 'game' });
    await checker.check('u1', 'game.join', { type: 'game' });
    expect(fake.asked).toHaveLength(2);
  });

  it('drops cached decisions when an authz event arrives', async () => {
    const checker = aChecker({ nc });
    await checker.check('u1', 'game.join', { type: 'game' });
    await checker.check('u1', 'game.join', { type: 'game' });
    expect(fake.asked).toHaveLength(1);

    fake.grants.add('u1 game.join');
    publishEvent('warden.authz.v1.role_assigned');
    await nc.flush();

    const decision = await waitFor(async () => {
      const answer = await checker.check('u1', 'game.join', { type: 'game' });
      return answer.allowed && answer;
    });
    expect(decision.reason).toBe('granted by fake');
  });

  it('answers a min_revision check from a decision the events heard since vouch for', async () => {
    fake.grants.add('u1 game.join');
    fake.revision = 5;
    const checker = aChecker({ nc });
    const ask = (subject: string, minRevision?: number) =>
      checker.check(subject, 'game.join', { type: 'game' }, undefined, minRevision);
    await ask('u1');
    await ask('u2');
    // Revision 6 is about u2 alone: u1's decision, stored before it was heard, reflects 6 too.
    fake.grants.add('u2 game.join');
    fake.revision = 6;
    const assigned = authzEventsV1.RoleAssigned.encode(
      authzEventsV1.RoleAssigned.fromPartial({ subjectId: 'u2', role: 'x', revision: 6 }),
    );
    publishEvent('warden.authz.v1.role_assigned', 'u2', 'authz-service', assigned.finish());
    await nc.flush();
    await waitFor(async () => (await ask('u2')).allowed);
    expect((await ask('u1', 6)).allowed).toBe(true);
    expect(fake.asked.filter((q) => q.subjectId === 'u1')).toHaveLength(1);
    // Revision 7 has not been heard: asked.
    fake.revision = 7;
    await ask('u1', 7);
    expect(fake.asked.filter((q) => q.subjectId === 'u1')).toHaveLength(2);
  });

  it("drops only the subject's decisions on role_assigned and role_revoked", async () => {
    const checker = aChecker({ nc });
    const ask = (subject: string) => checker.check(subject, 'game.join', { type: 'game' });
    await ask('u1');
    await ask('u2');
    expect(fake.asked).toHaveLength(2);

    fake.grants.add('u1 game.join');
    fake.grants.add('u2 game.join');
    publishEvent('warden.authz.v1.role_assigned', 'u1');
    await nc.flush();

    await waitFor(async () => (await ask('u1')).allowed);
    // u2's cached denial stands: the event was not about u2 (its own event would drop it).
    expect((await ask('u2')).allowed).toBe(false);
    expect(fake.asked.filter((q) => q.subjectId === 'u2')).toHaveLength(1);

    publishEvent('warden.authz.v1.role_revoked', 'u1');
    fake.grants.delete('u1 game.join');
    await nc.flush();
    await waitFor(async () => !(await ask('u1')).allowed);
  });

  it('keeps its decisions when an authz event carries another service as its source, and counts it', async () => {
    const counted: Array<Record<string, string>> = [];
    const checker = aChecker({ nc, metrics: { rejected: { inc: (l) => void counted.push(l) } } });
    await checker.check('u1', 'game.join', { type: 'game' });
    fake.grants.add('u1 game.join');
    publishEvent('warden.authz.v1.role_assigned', 'u1', 'user-service');
    publishEvent('warden.authz.v1.role_updated', 'player', 'user-service');
    await nc.flush();
    await waitFor(() => counted.length === 2, { what: 'both forged events rejected' });

    expect((await checker.check('u1', 'game.join', { type: 'game' })).allowed).toBe(false);
    expect(fake.asked).toHaveLength(1);
    expect(counted.map((l) => [l.source, l.reason])).toEqual([
      ['user-service', 'source_not_owner'],
      ['user-service', 'source_not_owner'],
    ]);
  });

  it('drops every decision when a role itself changes', async () => {
    const checker = aChecker({ nc });
    const ask = (subject: string) => checker.check(subject, 'game.join', { type: 'game' });
    await ask('u1');
    await ask('u2');

    fake.grants.add('u1 game.join');
    fake.grants.add('u2 game.join');
    publishEvent('warden.authz.v1.role_updated', 'player');
    await nc.flush();

    await waitFor(async () => (await ask('u1')).allowed && (await ask('u2')).allowed);
  });

  it('surfaces an unreachable authz-service as UNAVAILABLE, never as a decision', async () => {
    const checker = createAuthzChecker({
      address: `127.0.0.1:1`,
      serviceKey: SERVICE_KEY,
      logger,
      deadlineMs: 300,
    });
    checkers.push(checker);
    const error = (await checker
      .check('u1', 'game.join', { type: 'game' })
      .catch((e) => e)) as AppError;
    // One generic answer for the caller; the address and errno stay in the cause, for the log.
    expect([error.kind, error.reason, error.message]).toEqual([
      'UNAVAILABLE',
      'AUTHZ_UNAVAILABLE',
      'authorization service unavailable',
    ]);
    expect(error.metadata).toEqual({});
    expect((error.cause as AppError).kind).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED)$/);
  });

  it('surfaces an authz-service failure as UNAVAILABLE and does not cache it', async () => {
    const checker = aChecker({ cacheTtlMs: 60_000 });
    fake.failing = true;
    await expect(checker.check('u1', 'game.join', { type: 'game' })).rejects.toMatchObject({
      kind: 'UNAVAILABLE',
      message: 'authorization service unavailable',
    });
    fake.failing = false;
    fake.grants.add('u1 game.join');
    await expect(checker.check('u1', 'game.join', { type: 'game' })).resolves.toMatchObject({
      allowed: true,
    });
  });

  it('reports a rejected service key as our own misconfiguration (INTERNAL)', async () => {
    const checker = createAuthzChecker({ address, serviceKey: uniqueName('wrong-key'), logger });
    checkers.push(checker);
    await expect(checker.check('u1', 'game.join', { type: 'game' })).rejects.toMatchObject({
      kind: 'INTERNAL',
      reason: 'AUTHZ_CHECK_REJECTED',
    });
  });
});
