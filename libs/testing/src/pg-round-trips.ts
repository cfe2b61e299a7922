import pg from 'pg';

/**
 * The text of each query `run` sends to Postgres through pg, in order: one entry per round trip
 * (a simple query may hold several statements). For tests that pin how many round trips a call
 * makes.
 */
export async function pgRoundTrips(run: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text: string; pipelined?: readonly string[] };
    // A query sent with others before its Sync (@warden/db's queryThenCommit) names them.
    if (typeof first === 'string') sent.push(first);
    else sent.push([first.text, ...(first.pipelined ?? [])].join('; '));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await run();
  } finally {
    pg.Client.prototype.query = query;
  }
  return sent;
}
