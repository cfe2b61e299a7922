import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from './logger.js';

export type StreamSpec = { name: string; subjects: string[] };

/** One stream per bounded context. */
export const STREAMS = {
  user: { name: 'WARDEN_USER', subjects: ['warden.user.v1.>'] },
  session: { name: 'WARDEN_SESSION', subjects: ['warden.session.v1.>'] },
  authz: { name: 'WARDEN_AUTHZ', subjects: ['warden.authz.v1.>'] },
} as const satisfies Record<string, StreamSpec>;

export type EnsureStreamOptions = {
  name: string;
  subjects: readonly string[];
  /** How long JetStream remembers a Nats-Msg-Id; a relay republishing later makes a duplicate. */
  duplicateWindowMs?: number;
  maxAgeMs?: number;
  /** 3 on the production cluster. */
  replicas?: number;
};

const TWO_MINUTES = 2 * 60 * 1000;
const SEVEN_DAYS = 7 * 24 * 60 * 60 * 1000;

/** Creates the stream, or updates it to this configuration when it exists. */
export async function ensureStream(
  jsm: JetStreamManager,
  opts: EnsureStreamOptions,
): Promise<StreamInfo> {
  const config = {
    subjects: [...opts.subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(opts.maxAgeMs ?? SEVEN_DAYS),
    duplicate_window: nanos(opts.duplicateWindowMs ?? TWO_MINUTES),
    num_replicas: opts.replicas ?? 1,
  } satisfies Partial<StreamConfig>;

  if (await streamExists(jsm, opts.name)) return jsm.streams.update(opts.name, config);
  try {
    return await jsm.streams.add({ name: opts.name, ...config });
  } catch (err) {
    // Another process created it between our lookup and add.
    if (await streamExists(jsm, opts.name)) return jsm.streams.update(opts.name, config);
    throw err;
  }
}

async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)
      return false;
    throw err;
  }
}

export type NatsClients = { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager };

/** Connects for good: reconnects forever and logs each disconnect and reconnect. */
export async function connectNats(url: string, name: string, logger: Logger): Promise<NatsClients> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
  });
  logStatus(nc, logger).catch((err: unknown) => logger.warn({ err }, 'NATS status stream ended'));
  logger.info({ server: nc.getServer(), name }, 'connected to NATS');
  const jsm = await jetstreamManager(nc);
  return { nc, js: jetstream(nc), jsm };
}

async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of nc.status()) {
    switch (status.type) {
      case 'disconnect':
        logger.warn({ server: status.server }, 'NATS disconnected');
        break;
      case 'reconnect':
        logger.info({ server: status.server }, 'NATS reconnected');
        break;
      case 'error':
        logger.error({ err: status.error }, 'NATS connection error');
        break;
      case 'ldm':
        logger.warn({ server: status.server }, 'NATS server entering lame duck mode');
        break;
      case 'slowConsumer':
        logger.warn(
          { subject: status.sub.getSubject(), pending: status.pending },
          'NATS slow consumer',
        );
        break;
    }
  }
}
