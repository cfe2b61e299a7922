import pg, {
  type ClientBase,
  type Connection,
  type Pool,
  type PoolClient,
  type QueryConfig,
  type QueryResult,
  type QueryResultRow,
} from 'pg';

/** Runs `fn` in one transaction on one pooled connection; rolls back when it throws. */
export function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, 'BEGIN', (client) => fn(client));
}

/**
 * {@link withTransaction} whose BEGIN travels with the transaction's first statements, as one
 * simple-protocol query: one round trip fewer on a hot path. `first` takes no parameters, so it
 * may only inline values the caller validated (a uuid checked by isUuid, a number); `fn` gets the
 * rows of its last statement.
 */
export function withTransactionFrom<R extends QueryResultRow, T>(
  pool: Pool,
  first: string,
  fn: (client: PoolClient, rows: R[]) => Promise<T>,
): Promise<T> {
  return inTransaction(pool, `BEGIN;\n${first}`, (client, begun) => fn(client, lastRows<R>(begun)));
}

/**
 * The rows of the last statement of a simple query holding several (pg answers with one result
 * per statement, typed as if it were one).
 */
export function lastRows<R extends QueryResultRow>(result: QueryResult): R[] {
  const results = result as unknown as QueryResult<R> | QueryResult<R>[];
  return Array.isArray(results) ? results.at(-1)!.rows : results.rows;
}

/** Connections whose transaction {@link queryThenCommit} ended: inTransaction sends no COMMIT. */
const committed = new WeakSet<ClientBase>();

function inTransaction<T>(
  pool: Pool,
  begin: string,
  fn: (client: PoolClient, begun: QueryResult) => Promise<T>,
): Promise<T> {
  return withClient(pool, async (client) => {
    committed.delete(client);
    const result = await fn(client, await client.query(begin));
    if (!committed.delete(client)) await client.query('COMMIT');
    return result;
  });
}

/**
 * A transaction's last statement and its COMMIT in one round trip: the statement's Bind and
 * Execute, then COMMIT's Parse, Bind and Execute, then one Sync, in one write (the extended
 * protocol's pipelining). If the statement fails, Postgres skips the COMMIT up to the Sync and
 * this rejects with the statement's error, the transaction left to roll back; if the COMMIT fails,
 * with the COMMIT's. Inside {@link withTransaction} or {@link withTransactionFrom} (which then send
 * no COMMIT of their own), nothing may follow it. The rows are the statement's.
 *
 * node-postgres has no pipeline API: this is its own Query with COMMIT sent before the Sync that
 * would end the statement (pg 8's `Query#_getRows`, the step after Bind and Describe), and the
 * COMMIT's CommandComplete left out of the result. A sign-in made five round trips with the
 * COMMIT on its own, four with it here.
 */
export function queryThenCommit<R extends QueryResultRow>(
  client: ClientBase,
  config: QueryConfig,
): Promise<QueryResult<R>> {
  return new Promise((resolve, reject) => {
    const query = new StatementThenCommit(
      // Always the extended protocol: a statement without values would go as a simple query.
      { ...config, queryMode: 'extended' },
      (err: Error | undefined, result: unknown) => {
        if (err) reject(err);
        else {
          committed.add(client);
          resolve(result as QueryResult<R>);
        }
      },
    );
    void client.query(query);
  });
}

/** The parts of pg 8's Query that {@link StatementThenCommit} overrides. */
interface QueryInternals {
  portal: string;
  _getRows(connection: Connection, rows?: number): void;
  handleCommandComplete(msg: { text: string }, connection: Connection): void;
}

/** pg's Connection messages this sends (pg 8's `lib/connection.js`). */
interface ConnectionMessages {
  execute(config: { portal?: string; rows?: number }): void;
  parse(config: { name?: string; text: string; types?: unknown[] }): void;
  bind(config: { portal?: string; statement?: string; values?: unknown[] }): void;
  sync(): void;
}

const Query = pg.Query as unknown as new (
  config: QueryConfig & { queryMode: 'extended' },
  callback: (err: Error | undefined, result: unknown) => void,
) => pg.Query & QueryInternals;

class StatementThenCommit extends Query {
  /** The statements sent after this one in its round trip (read by the round-trip counts of tests). */
  readonly pipelined = ['COMMIT'] as const;

  /** Every row at once: queryThenCommit's config never sets `rows` (a page size). */
  override _getRows(connection: Connection): void {
    const messages = connection as unknown as ConnectionMessages;
    messages.execute({ portal: this.portal });
    messages.parse({ text: 'COMMIT', types: [] });
    messages.bind({});
    messages.execute({});
    messages.sync();
  }

  override handleCommandComplete(msg: { text: string }, connection: Connection): void {
    if (msg.text !== 'COMMIT') super.handleCommandComplete(msg, connection);
  }
}

/**
 * Runs `fn` on one pooled connection; `fn` sends BEGIN and COMMIT itself, so it can batch them
 * with its own statements. When `fn` throws, the transaction is rolled back.
 */
export async function withClient<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  // pg-pool listens for 'error' only on idle clients: a connection lost while checked out between
  // two statements would emit it unheard and end the process (found by tests/faults: a Postgres
  // restart killed session-service's worker). Noted here; the next statement fails.
  let lost: Error | undefined;
  const onError = (err: Error) => (lost ??= err);
  client.on('error', onError);
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (err) {
    if (!lost)
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        // A connection that cannot roll back must not go back into the pool.
        broken = rollbackErr;
      });
    throw err;
  } finally {
    // A lost connection keeps a listener for its late errors and is discarded, not pooled.
    if (!lost) client.off('error', onError);
    client.release(lost ?? broken);
  }
}
