import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { authzEventsV1, userEventsV1, type authzv1, type userv1 } from '@warden/proto';
import { natsConnectOptions } from '@warden/testing';
import { call, type Stack } from './stack.js';

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface LatencyReport extends Percentiles {
  count: number;
  /** CheckPermission calls made per user until one allowed (the measurement's own load). */
  checksPerUser: number;
  /**
   * Where the time goes, each from the RegisterUser response: `warden.user.v1.registered` seen on
   * NATS (user outbox relayed), `warden.authz.v1.role_assigned` seen (authz consumer committed and
   * its outbox relayed), and visible (first allowing CheckPermission; the same as the total).
   */
  stages: { userEvent: Percentiles; roleEvent: Percentiles; visible: Percentiles };
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
  const nc = await connect(natsConnectOptions('ops'));
  const announced = new Map<string, number>();
  const userEvents = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const subscription = nc.subscribe('warden.authz.v1.role_assigned', {
    callback: (_error, message) => {
      const event = authzEventsV1.RoleAssigned.decode(message.data);
      if (!announced.has(event.subjectId)) announced.set(event.subjectId, performance.now());
      waiting.get(event.subjectId)?.();
    },
  });
  const registeredEvents = nc.subscribe('warden.user.v1.registered', {
    callback: (_error, message) => {
      const event = userEventsV1.UserRegistered.decode(message.data);
      if (!userEvents.has(event.userId)) userEvents.set(event.userId, performance.now());
    },
  });
  await nc.flush();
  try {
    const delays: number[] = [];
    const userEventDelays: number[] = [];
    const roleEventDelays: number[] = [];
    let checks = 0;
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
            checks++;
            if (check.allowed) break;
            if (attempt > 2000)
              throw new Error(
                `role announced for ${id} but CheckPermission still denies: ${check.reason}`,
              );
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
          delays.push(performance.now() - registered);
          // The event may reach NATS before the response reaches the client: that counts as 0.
          userEventDelays.push(Math.max(0, (userEvents.get(id) ?? registered) - registered));
          roleEventDelays.push(Math.max(0, announced.get(id)! - registered));
        })(),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
    }
    await Promise.all(runs);
    const total = percentiles(delays);
    return {
      count: delays.length,
      checksPerUser: checks / delays.length,
      ...total,
      stages: {
        userEvent: percentiles(userEventDelays),
        roleEvent: percentiles(roleEventDelays),
        visible: total,
      },
    };
  } finally {
    subscription.unsubscribe();
    registeredEvents.unsubscribe();
    await nc.close();
  }
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1)! };
}

/** `p50 … ms   p99 … ms   max … ms`, as the benchmarks print latencies. */
export const formatPercentiles = (p: Percentiles): string =>
  `p50 ${p.p50.toFixed(1)} ms   p99 ${p.p99.toFixed(1)} ms   max ${p.max.toFixed(1)} ms`;
