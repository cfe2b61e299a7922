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
import { readFileSync } from 'node:fs';
import {
  connect,
  credsAuthenticator,
  nanos,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
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

/** Retention and dedupe window of warden's streams (deploy/nats/provision-streams.sh says the same). */
export const STREAM_DEFAULTS = {
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  duplicateWindowMs: 2 * 60 * 1000,
} as const;

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
    max_age: nanos(opts.maxAgeMs ?? STREAM_DEFAULTS.maxAgeMs),
    duplicate_window: nanos(opts.duplicateWindowMs ?? STREAM_DEFAULTS.duplicateWindowMs),
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
  return (await streamInfoOrNone(jsm, name)) !== undefined;
}

export type NatsClients = { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager };

/** The `nats` section of a service's config. */
export type NatsSettings = {
  url: string;
  /** Replicas every warden stream must have (provisioned by ops; 1 in dev, 3 on a cluster). */
  stream_replicas?: number;
  user?: string;
  password?: string;
  credentials_file?: string;
  tls?: { enabled: boolean; ca_file: string; cert_file: string; key_file: string };
};

/** The inbox prefix of a NATS user: the server lets each user subscribe only to its own. */
export const inboxPrefixOf = (user: string): string => `_INBOX.${user}`;

/** nats.js options for these settings: credentials, TLS and a per-user inbox prefix. */
export function natsConnectOptions(settings: NatsSettings, name: string): NodeConnectionOptions {
  const options: NodeConnectionOptions = {
    servers: settings.url.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
  };
  if (settings.user) {
    options.user = settings.user;
    options.pass = settings.password ?? '';
    options.inboxPrefix = inboxPrefixOf(settings.user);
  }
  const credentials = settings.credentials_file;
  // Read at every (re)connect, so a rotated file is picked up without a restart.
  if (credentials) options.authenticator = credsAuthenticator(() => readFileSync(credentials));
  const tls = settings.tls;
  if (tls?.enabled) {
    options.tls = {
      ...(tls.ca_file ? { caFile: tls.ca_file } : {}),
      ...(tls.cert_file ? { certFile: tls.cert_file, keyFile: tls.key_file } : {}),
    };
  }
  return options;
}

/** With NODE_ENV=production a service never connects anonymously: it would be any client's peer. */
export function checkNatsCredentials(settings: NatsSettings, env: NodeJS.ProcessEnv): void {
  if (env.NODE_ENV === 'production' && !settings.user && !settings.credentials_file)
    throw new Error(
      'nats: NODE_ENV=production refuses an anonymous connection; set nats.user and nats.password (WARDEN_NATS_USER, WARDEN_NATS_PASSWORD) or nats.credentials_file',
    );
}

/** Connects for good: reconnects forever and logs each disconnect and reconnect. */
export async function connectNats(
  settings: NatsSettings,
  name: string,
  logger: Logger,
): Promise<NatsClients> {
  checkNatsCredentials(settings, process.env);
  const nc = await connect(natsConnectOptions(settings, name));
  logStatus(nc, logger).catch((err: unknown) => logger.warn({ err }, 'NATS status stream ended'));
  logger.info(
    { server: nc.getServer(), name, user: settings.user || undefined },
    'connected to NATS',
  );
  const jsm = await jetstreamManager(nc);
  return { nc, js: jetstream(nc), jsm };
}

/**
 * Waits until `name` exists with at least `replicas` replicas (`nats.stream_replicas`): streams
 * belong to the provisioning step (`ops`), which a service may start before, and a stream left at
 * fewer replicas than the deployment expects would not survive the loss of a NATS node. Logs once
 * per reason while waiting; `signal` ends the wait early.
 */
export async function awaitStream(
  jsm: JetStreamManager,
  name: string,
  logger: Logger,
  {
    intervalMs = 1000,
    signal,
    replicas = 1,
  }: { intervalMs?: number; signal?: AbortSignal; replicas?: number } = {},
): Promise<StreamInfo> {
  const said = new Set<string>();
  const sayOnce = (reason: string, fields: object = {}) => {
    if (!said.has(reason)) logger.warn({ stream: name, ...fields }, reason);
    said.add(reason);
  };
  for (;;) {
    const info = await streamInfoOrNone(jsm, name);
    const actual = info ? info.config.num_replicas || 1 : 0;
    if (info && actual >= replicas) return info;
    if (signal?.aborted)
      throw new Error(
        info
          ? `stream ${name} has ${actual} replica(s); nats.stream_replicas is ${replicas}`
          : `stream ${name} not found`,
      );
    if (info)
      sayOnce(
        'stream has fewer replicas than nats.stream_replicas; waiting for ops to provision it again (deploy/nats/provision-streams.sh, REPLICAS)',
        { replicas: actual, expected: replicas },
      );
    else
      sayOnce('stream missing; waiting for ops to provision it (deploy/nats/provision-streams.sh)');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The stream's info, or undefined when it does not exist; any other error is thrown. */
async function streamInfoOrNone(
  jsm: JetStreamManager,
  name: string,
): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)
      return undefined;
    throw err;
  }
}

/** Creates or updates warden's three streams; run with the `ops` credentials. */
export async function provisionStreams(
  jsm: JetStreamManager,
  { replicas = 1 }: { replicas?: number } = {},
): Promise<StreamInfo[]> {
  const infos: StreamInfo[] = [];
  for (const spec of Object.values(STREAMS))
    infos.push(await ensureStream(jsm, { ...spec, replicas }));
  return infos;
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
