import { gzipSync } from 'node:zlib';
import type { Clock } from '../../../core/clock.ts';
import { INFLUX_PRECISION } from '../../../core/influx-schema.ts';
import { authHeaders, type InfluxStoreOptions } from './influx-options.ts';
import { chunks, type LineWriter, type LineWriterHooks } from './line-writer.ts';
import { isRetryableStatus, RetryPolicy, WriteAttemptError } from './retry-policy.ts';

/**
 * The InfluxDB 1.x transport: line protocol POSTed to `/write?db=&rp=&precision=ms`, which every 1.x
 * serves (the client's WriteApi targets /api/v2/write, which 1.x answers only from 1.8 on: Debian's 1.6.7
 * says 404). Chunks of `batchSize` lines go one after another, in order; each is retried by the
 * RetryPolicy (back-off, jitter, deadline). Nothing is buffered beyond the call in progress.
 */
export class V1HttpWriter implements LineWriter {
  readonly transport = 'v1' as const;
  private readonly endpoint: string;
  private readonly headers: Record<string, string>;
  private readonly policy: RetryPolicy;
  private readonly closing = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly o: InfluxStoreOptions,
    private readonly hooks: LineWriterHooks,
    private readonly clock: Clock,
  ) {
    const params = new URLSearchParams({ db: o.database, precision: INFLUX_PRECISION });
    if (o.retentionPolicy !== '') params.set('rp', o.retentionPolicy);
    this.endpoint = `${o.url.replace(/\/+$/, '')}/write?${params}`;
    this.headers = { ...authHeaders(o), 'content-type': 'text/plain; charset=utf-8' };
    this.policy = new RetryPolicy(o);
  }

  async write(lines: readonly string[]): Promise<void> {
    for (const chunk of chunks(lines, this.o.batchSize)) await this.send(chunk.join('\n'));
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async send(body: string): Promise<void> {
    const startedAt = this.clock.now();
    const gzip = body.length > this.o.gzipThresholdBytes && this.o.gzipThresholdBytes > 0;
    const payload = gzip ? new Uint8Array(gzipSync(body)) : body;
    for (let failed = 0; ; ) {
      const err = await this.attempt(payload, gzip);
      if (err === null) return;
      failed++;
      this.hooks.onAttemptFailed(err, failed);
      if (this.closing.signal.aborted || !this.policy.shouldRetry(err, failed, startedAt, this.clock.now()))
        throw err;
      await this.pause(this.policy.delay(failed, err.retryAfterMs));
    }
  }

  /** One POST; null when the server took it, else why not. */
  private async attempt(
    payload: string | Uint8Array<ArrayBuffer>,
    gzip: boolean,
  ): Promise<WriteAttemptError | null> {
    if (this.closing.signal.aborted) return new WriteAttemptError('writer closed', false, undefined);
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: gzip ? { ...this.headers, 'content-encoding': 'gzip' } : this.headers,
        body: payload,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.o.requestTimeoutMs)]),
      });
      const text = await res.text();
      if (res.status === 204 || res.status === 200) return null;
      const after = Number(res.headers.get('retry-after'));
      return new WriteAttemptError(
        `InfluxDB /write answered ${res.status}: ${text.slice(0, 300)}`,
        isRetryableStatus(res.status),
        res.status,
        Number.isFinite(after) && after > 0 ? { retryAfterMs: after * 1000 } : {},
      );
    } catch (cause) {
      // Refused connection, reset, timeout: the server may be back soon.
      const message =
        cause instanceof Error
          ? ((cause.cause as Error | undefined)?.message ?? cause.message)
          : String(cause);
      return new WriteAttemptError(`InfluxDB /write failed: ${message}`, true, undefined, { cause });
    }
  }

  /** A back-off wait that close() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.closing.signal;
      const done = () => {
        clearTimeout(t);
        this.timers.delete(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.timers.add(t);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
