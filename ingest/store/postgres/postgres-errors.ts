import { CityError } from '../../../core/errors.ts';

/** Socket-level failures: the server is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * SQLSTATE classes that say "try again later" rather than "this request is wrong": 08 connection
 * exception, 53 insufficient resources, 57 operator intervention (admin shutdown, cannot connect now),
 * 40 transaction rollback (serialization failure, deadlock), 55P03 lock not available.
 */
const TRANSIENT_CLASSES = new Set(['08', '53', '57', '40']);

/** True when the failure is the database being unreachable or busy, not the statement being wrong. */
export function isTransient(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = String((err as { code?: unknown }).code ?? '');
  if (NETWORK_CODES.has(code) || TRANSIENT_CLASSES.has(code.slice(0, 2)) || code === '55P03') return true;
  const message = (err as Error).message ?? '';
  // node-postgres reports a dropped socket and its own timeouts without a code.
  return /Connection terminated|connection timeout|timeout exceeded|Client has encountered a connection error/i.test(
    message,
  );
}

/** Writes: every failure is retryable from the durable log, which keeps the batch meanwhile. */
export function writeError(err: unknown): CityError {
  if (err instanceof CityError) return err;
  return new CityError('INGEST_STORE_UNAVAILABLE', `PostgreSQL write failed: ${(err as Error).message}`, {
    cause: err,
  });
}

/** Reads: an unreachable database is retryable; a refused statement is not. */
export function readError(err: unknown): CityError {
  if (err instanceof CityError) return err;
  const message = `PostgreSQL query failed: ${(err as Error).message}`;
  return new CityError(isTransient(err) ? 'INGEST_STORE_UNAVAILABLE' : 'STORE_QUERY_FAILED', message, {
    cause: err,
  });
}
