/**
 * When to retry a failed write request and how long to wait: exponential back-off with jitter and a
 * deadline, the same knobs (and meanings) as the InfluxDB client's WriteApi options, so both transports
 * are configured alike.
 */
export interface RetrySettings {
  maxRetries: number;
  /** no retry starts later than this after the first attempt (ms) */
  maxRetryTimeMs: number;
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
  exponentialBase: number;
  retryJitterMs: number;
}

/** What failed and whether it is worth another attempt. */
export class WriteAttemptError extends Error {
  /** the server's Retry-After, when it sent one */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status: number | undefined,
    options: { cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'WriteAttemptError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The InfluxDB client's rule, kept here for the v1 transport: network errors and HTTP 429/5xx are
 * retried; other 4xx (bad line protocol, auth, database not found) will not get better by retrying.
 */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

export class RetryPolicy {
  constructor(
    private readonly s: RetrySettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before attempt `failedAttempts + 1` (ms); `retryAfterMs` from the server wins when given. */
  delay(failedAttempts: number, retryAfterMs?: number): number {
    const jitter = Math.round(this.random() * this.s.retryJitterMs);
    if (retryAfterMs !== undefined && retryAfterMs > 0) return retryAfterMs + jitter;
    const exp = this.s.minRetryDelayMs * this.s.exponentialBase ** Math.max(0, failedAttempts - 1);
    return Math.min(exp, this.s.maxRetryDelayMs) + jitter;
  }

  /** Whether to try again after `failedAttempts` failures, the first attempt having started at `startedAt`. */
  shouldRetry(err: WriteAttemptError, failedAttempts: number, startedAt: number, now: number): boolean {
    return err.retryable && failedAttempts <= this.s.maxRetries && now - startedAt < this.s.maxRetryTimeMs;
  }
}
