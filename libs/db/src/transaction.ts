import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

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

function inTransaction<T>(
  pool: Pool,
  begin: string,
  fn: (client: PoolClient, begun: QueryResult) => Promise<T>,
): Promise<T> {
  return withClient(pool, async (client) => {
    const result = await fn(client, await client.query(begin));
    await client.query('COMMIT');
    return result;
  });
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
