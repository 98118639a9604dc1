import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * Structured logs (pino). Secrets never reach a log line: the redact list covers every field name that
 * can hold one, so a careless `log.info({ body })` still cannot leak a password or an API key.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'adminToken',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { service: 'citymetrics' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination,
  );
}

/** A logger that writes nothing, for tests that do not look at logs. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
