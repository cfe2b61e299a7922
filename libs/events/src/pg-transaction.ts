import type { Pool, PoolClient } from 'pg';

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
