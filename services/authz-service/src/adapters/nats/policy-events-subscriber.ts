import type { NatsConnection } from '@nats-io/transport-node';
import { followReplicaEvents, type EventMetrics, type ReplicaFeed } from '@warden/events';
import type { Logger } from '@warden/logger';
import type { PolicySync } from '../../application/policy-sync.js';
import { AUTHZ_EVENTS, policyChangeOf } from '../../mapping.js';

/**
 * Every replica hears every authz event and re-reads what it names, if it holds it. Events
 * published while the connection was down are lost to core NATS, so any gap drops every cached
 * subject (each is read again at its next check) and re-reads the catalogue, and while the
 * connection is down no subject is cached at all.
 */
export function subscribePolicyEvents(
  nc: NatsConnection,
  sync: PolicySync,
  options: { logger: Logger; metrics?: Pick<EventMetrics, 'rejected'> },
): ReplicaFeed {
  const { logger } = options;
  return followReplicaEvents(
    nc,
    [{ subject: AUTHZ_EVENTS }],
    {
      onEvent(event, subject) {
        let change;
        try {
          change = policyChangeOf(subject, event.payload);
        } catch (err) {
          logger.warn({ err, subject, eventId: event.id }, 'undecodable authz event ignored');
          return;
        }
        if (change) void sync.changed([change]);
      },
      onConnected(connected) {
        sync.eventsConnected(connected);
      },
      onGap(why) {
        logger.info({ why }, 'authz events interrupted: dropping cached subjects, reading roles');
        void sync
          .resync()
          .catch((err: unknown) => logger.error({ err }, 'role catalogue read after a gap failed'));
      },
    },
    options,
  );
}
