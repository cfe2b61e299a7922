import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { authzEventsV1, type authzv1, type userv1 } from '@warden/proto';
import { TEST_NATS_URL } from '@warden/testing';
import { call, type Stack } from './stack.js';

export interface LatencyReport {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Registers `count` users at `perSecond` and measures, per user, from the RegisterUser response to
 * the first CheckPermission that allows `game.join`. Checks start only once authz announces the
 * role (`warden.authz.v1.role_assigned`), so the measurement does not flood the machine it measures.
 */
export async function measureRegistrationToRole(
  stack: Stack,
  count: number,
  perSecond: number,
): Promise<LatencyReport> {
  const nc = await connect({ servers: TEST_NATS_URL });
  const announced = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const subscription = nc.subscribe('warden.authz.v1.role_assigned', {
    callback: (_error, message) => {
      const event = authzEventsV1.RoleAssigned.decode(message.data);
      announced.set(event.subjectId, performance.now());
      waiting.get(event.subjectId)?.();
    },
  });
  await nc.flush();
  try {
    const delays: number[] = [];
    const runs: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      runs.push(
        (async () => {
          const { user } = await call<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(
            stack.users,
            'registerUser',
            {
              email: `lat${i}-${randomUUID()}@example.com`,
              password: 'correct horse battery',
              displayName: `L${i}`,
              requestId: randomUUID(),
            },
          );
          const registered = performance.now();
          const id = user!.id;
          if (!announced.has(id)) {
            await new Promise<void>((resolve, reject) => {
              const timer = setTimeout(
                () => reject(new Error(`no role_assigned for ${id} within 10 s`)),
                10_000,
              );
              waiting.set(id, () => {
                clearTimeout(timer);
                resolve();
              });
            });
          }
          // The announcement is when replicas start applying it; visible is when a check says so.
          for (let attempt = 0; ; attempt++) {
            const check = await call<
              authzv1.CheckPermissionRequest,
              authzv1.CheckPermissionResponse
            >(stack.authz, 'checkPermission', {
              subjectId: id,
              permission: 'game.join',
              resource: { type: 'game', id: 'g', ownerId: '' },
            });
            if (check.allowed) break;
            if (attempt > 2000)
              throw new Error(
                `role announced for ${id} but CheckPermission still denies: ${check.reason}`,
              );
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
          delays.push(performance.now() - registered);
        })(),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
    }
    await Promise.all(runs);
    const sorted = [...delays].sort((a, b) => a - b);
    const at = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
    return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1)! };
  } finally {
    subscription.unsubscribe();
    await nc.close();
  }
}
