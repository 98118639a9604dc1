import type pg from 'pg';

/**
 * A PostgreSQL pool whose connections' failures never crash the process. node-postgres emits a lost
 * connection's error on the pool only while the client is idle in it; a client checked out between two
 * statements (inside a transaction, say) emits it on itself, and an `error` event nobody listens to is an
 * uncaught exception: a server restart would kill the node instead of failing one write that is retried.
 * Every client gets a listener as it connects; an error seen both ways is reported once.
 */
export function handlePoolErrors(pool: pg.Pool, onError: (err: Error) => void): void {
  const seen = new WeakSet<Error>();
  const once = (err: Error) => {
    if (seen.has(err)) return;
    seen.add(err);
    onError(err);
  };
  pool.on('error', once);
  pool.on('connect', (client) => client.on('error', once));
}
