import type pg from 'pg';

/**
 * Runs `run` in one transaction on a client of the pool, begun with `begin` ('BEGIN', or with an
 * isolation level). It commits, unless `keep` says the result is not to be kept (a version another node
 * wrote first), then it rolls back; a throw rolls back too. A client whose rollback failed is destroyed
 * rather than handed back to the pool in a transaction.
 */
export async function inPgTransaction<T>(
  pool: pg.Pool,
  begin: string,
  run: (client: pg.PoolClient) => Promise<T>,
  keep: (out: T) => boolean = () => true,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    const out = await run(client);
    await client.query(keep(out) ? 'COMMIT' : 'ROLLBACK');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
