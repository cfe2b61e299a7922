import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@warden/logger';
import type { PolicySync } from '../../application/policy-sync.js';
import { AUTHZ_EVENTS, policyChangeOf } from './authz-event-codec.js';

export interface PolicyEventsSubscription {
  stop(): Promise<void>;
}

/**
 * Every replica hears every authz event (core NATS, no queue group) and re-reads what it names.
 * Events published while the connection was down are lost to core NATS, so a reconnect reloads all.
 */
export function subscribePolicyEvents(
  nc: NatsConnection,
  sync: PolicySync,
  logger: Logger,
): PolicyEventsSubscription {
  const subscription = nc.subscribe(AUTHZ_EVENTS, {
    callback: (err, msg) => {
      if (err) {
        logger.error({ err }, 'authz event subscription failed');
        return;
      }
      let change;
      try {
        change = policyChangeOf(msg.subject, msg.data);
      } catch (error) {
        logger.warn({ err: error, subject: msg.subject }, 'undecodable authz event ignored');
        return;
      }
      if (change) void sync.changed([change]);
    },
  });
  const statuses = nc.status() as ReturnType<NatsConnection['status']> & { stop?: () => void };
  const watching = (async () => {
    for await (const status of statuses) {
      if (status.type !== 'reconnect') continue;
      logger.info('NATS reconnected: reloading the policy model');
      await sync
        .loadAll()
        .catch((error: unknown) =>
          logger.error({ err: error }, 'policy reload after reconnect failed'),
        );
    }
  })();
  return {
    async stop() {
      subscription.unsubscribe();
      statuses.stop?.();
      await watching;
    },
  };
}
