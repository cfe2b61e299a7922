import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

/** Runs `fn` in one transaction on one pooled connection; rolls back when it throws. */
export async function withTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => {
      // A connection that cannot roll back must not go back into the pool.
      broken = rollbackErr;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * {@link withTransaction} whose BEGIN travels with the transaction's first statements, as one
 * simple-protocol query: one round trip fewer on a hot path. `first` takes no parameters, so it
 * may only inline values the caller validated (a uuid checked by isUuid, a number); `fn` gets the
 * rows of its last statement.
 */
export async function withTransactionFrom<R extends QueryResultRow, T>(
  pool: Pool,
  first: string,
  fn: (client: PoolClient, rows: R[]) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const results = (await client.query(`BEGIN;\n${first}`)) as unknown as QueryResult<R>[];
    const result = await fn(client, results.at(-1)!.rows);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => {
      // A connection that cannot roll back must not go back into the pool.
      broken = rollbackErr;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
