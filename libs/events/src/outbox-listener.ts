import type { Notification, Pool, PoolClient } from 'pg';
import { backoffDelay, sleep } from './backoff.js';
import type { Logger } from './logger.js';
import { OUTBOX_CHANNEL } from './outbox-schema.js';

type Listening = { client: PoolClient; detach: () => void };

/**
 * Holds one pooled connection in `LISTEN warden_outbox` and calls `onInsert` when this schema's
 * outbox gets rows. Reconnects with backoff; the caller keeps polling meanwhile.
 */
export class OutboxListener {
  private listening: Listening | undefined;
  private connecting: Promise<void> | undefined;
  private stopping = new AbortController();

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly onInsert: () => void,
  ) {}

  start(): void {
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    this.connecting ??= this.connect();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.connecting;
    const listening = this.listening;
    if (!listening) return;
    this.listening = undefined;
    try {
      await listening.client.query(`UNLISTEN ${OUTBOX_CHANNEL}`);
      listening.detach();
      listening.client.release();
    } catch (err) {
      listening.detach();
      listening.client.release(err instanceof Error ? err : true);
    }
  }

  private async connect(): Promise<void> {
    for (let failures = 1; !this.stopping.signal.aborted; failures++) {
      try {
        this.listening = await this.listen();
        this.logger.debug({ channel: OUTBOX_CHANNEL }, 'outbox listener connected');
        // Rows inserted while nobody listened would otherwise wait for the next poll.
        this.onInsert();
        break;
      } catch (err) {
        this.logger.warn({ err }, 'outbox listener cannot connect; relying on polling');
        await sleep(backoffDelay(failures, 500, 30_000), this.stopping.signal);
      }
    }
    this.connecting = undefined;
  }

  private async listen(): Promise<Listening> {
    const client = await this.pool.connect();
    let schema: string | undefined;
    const onNotification = (n: Notification) => {
      if (n.channel === OUTBOX_CHANNEL && (!n.payload || n.payload === schema)) this.onInsert();
    };
    // A checked-out client without an 'error' listener would crash the process when the server goes.
    const onError = (err: Error) => this.lost(client, err);
    const onEnd = () => this.lost(client, new Error('listener connection ended'));
    const detach = () => {
      client.off('notification', onNotification).off('error', onError).off('end', onEnd);
    };
    client.on('notification', onNotification).on('error', onError).on('end', onEnd);
    try {
      const { rows } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
      schema = rows[0]?.schema;
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      return { client, detach };
    } catch (err) {
      detach();
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  private lost(client: PoolClient, err: Error): void {
    if (this.listening?.client !== client) return;
    this.listening.detach();
    this.listening = undefined;
    // Keep swallowing late errors from the dead connection.
    client.on('error', () => {});
    client.release(err);
    if (this.stopping.signal.aborted) return;
    this.logger.warn({ err }, 'outbox listener lost its connection; reconnecting');
    this.connecting ??= this.connect();
  }
}
