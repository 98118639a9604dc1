import { NatsError } from 'nats';
import { CityError } from '../../core/errors.ts';

/** JetStream API error codes (nats-server's errors.json) that this code tells apart. */
export const JS_STREAM_NOT_FOUND = 10059;
export const JS_CONSUMER_NOT_FOUND = 10014;
export const JS_STREAM_NAME_IN_USE = 10058;

export const jsErrorCode = (err: unknown): number | undefined =>
  err instanceof NatsError ? err.api_error?.err_code : undefined;

/**
 * Any failure to reach JetStream or to get its acknowledgement (timeout, no responders while a stream
 * leader is elected, a closed connection) is the same thing to a device: not logged, send it again.
 */
export function logUnavailable(err: unknown, what: string): CityError {
  if (err instanceof CityError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const code = err instanceof NatsError ? ` (${err.code})` : '';
  return new CityError('INGEST_LOG_UNAVAILABLE', `${what}: ${reason}${code}`, { cause: err });
}
