import { HttpError, InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import { INFLUX_PRECISION } from '../../../core/influx-schema.ts';
import type { Logger } from '../../../core/logger.ts';
import type { InfluxStoreOptions } from './influx-options.ts';
import type { LineWriter, LineWriterHooks } from './line-writer.ts';
import { WriteAttemptError } from './retry-policy.ts';

interface Ticket {
  remaining: number;
  error: WriteAttemptError | null;
  resolve: () => void;
  reject: (err: WriteAttemptError) => void;
}

/**
 * The v2 transport: the InfluxDB client's WriteApi (POST /api/v2/write). The WriteApi batches
 * (`batchSize`, `flushInterval`), retries with exponential back-off and jitter from a retry buffer bounded
 * by `maxBufferLines`, and reports through hooks. Its flush() promise says only how the FIRST attempt went,
 * so completion is tracked by counting lines through the hooks: `writeSuccess` (written),
 * `writeFailed` on the last attempt (given up) and `writeRetrySkipped` (dropped from the full retry buffer).
 * The last-attempt decision is ours (the hook returns a rejected promise, which stops the client): the
 * client's own rule plus our deadline, so a write never waits on a retry nobody will make.
 */
export class V2WriteApiWriter implements LineWriter {
  readonly transport = 'v2' as const;
  private readonly api: WriteApi;
  private ticket: Ticket | null = null;
  private closed = false;

  constructor(
    private readonly o: InfluxStoreOptions,
    private readonly hooks: LineWriterHooks,
    logger: Logger,
  ) {
    // The client logs each failed attempt to the console; we count and report them ourselves. Its logger
    // is process-wide: the last store built wins, which is fine for one store per process.
    setLogger({
      error: (message, error) => logger.debug({ err: error }, `influxdb-client: ${message}`),
      warn: (message, error) => logger.debug({ err: error }, `influxdb-client: ${message}`),
    });
    const self = this;
    const client = new InfluxDB({
      url: o.url,
      ...(o.token !== undefined ? { token: o.token } : {}),
      timeout: o.requestTimeoutMs,
    });
    this.api = client.getWriteApi(o.org, o.bucket, INFLUX_PRECISION, {
      batchSize: o.batchSize,
      flushInterval: o.flushIntervalMs,
      maxRetries: o.maxRetries,
      maxRetryTime: o.maxRetryTimeMs,
      minRetryDelay: o.minRetryDelayMs,
      maxRetryDelay: o.maxRetryDelayMs,
      exponentialBase: o.exponentialBase,
      retryJitter: o.retryJitterMs,
      randomRetry: false,
      maxBufferLines: o.maxBufferLines,
      gzipThreshold: o.gzipThresholdBytes,
      writeSuccess(lines) {
        self.settle(lines.length, null);
      },
      writeFailed(error, lines, attempt, expires) {
        return self.onFailed(error, lines, attempt, expires);
      },
      writeRetrySkipped(entry) {
        self.settle(
          entry.lines.length,
          new WriteAttemptError(`${entry.lines.length} lines dropped: retry buffer full`, true, undefined),
        );
      },
    });
  }

  write(lines: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(new WriteAttemptError('writer closed', false, undefined));
    if (this.ticket !== null) throw new Error('V2WriteApiWriter: one write at a time');
    if (lines.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      this.ticket = { remaining: lines.length, error: null, resolve, reject };
    });
    this.api.writeRecords(lines as string[]);
    // The outcome comes through the hooks; flush() only starts the send of what is still buffered.
    this.api.flush().catch(() => undefined);
    return done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const left = this.api.dispose(); // stops retries and timers; nothing is sent after close
    this.settle(
      Number.POSITIVE_INFINITY,
      new WriteAttemptError(`writer closed (${left} lines unsent)`, true, undefined),
    );
  }

  private onFailed(
    error: Error,
    lines: string[],
    attempt: number,
    expires: number,
  ): Promise<void> | undefined {
    const status = error instanceof HttpError ? error.statusCode : undefined;
    // The client's rule: network errors and 429/5xx are retried, other HTTP errors are not.
    const retryable = status === undefined || status >= 429;
    const err = new WriteAttemptError(
      `InfluxDB /api/v2/write failed: ${status !== undefined ? `${status} ` : ''}${error.message}`,
      retryable,
      status,
      { cause: error },
    );
    this.hooks.onAttemptFailed(err, attempt);
    // `expires` comes from the client's Date.now(): compare on the same clock.
    const willRetry = !this.closed && retryable && attempt <= this.o.maxRetries && Date.now() < expires;
    if (willRetry) return undefined; // the client puts the lines in its retry buffer
    this.settle(lines.length, err);
    return Promise.reject(err);
  }

  private settle(lines: number, error: WriteAttemptError | null): void {
    const t = this.ticket;
    if (t === null) return;
    if (error !== null && t.error === null) t.error = error;
    t.remaining -= lines;
    if (t.remaining > 0) return;
    this.ticket = null;
    if (t.error !== null) t.reject(t.error);
    else t.resolve();
  }
}
