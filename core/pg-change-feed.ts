import pg from 'pg';
import type { Logger } from './logger.ts';

/**
 * One PostgreSQL connection that LISTENs on a channel, for stores several nodes share: what one node
 * commits (with pg_notify in the same transaction, so nothing is announced that did not commit) reaches
 * the others within milliseconds.
 *
 * A notification sent while the connection is down is lost for good (PostgreSQL keeps none for absent
 * listeners), so after reconnecting `onResync` is called: the owner re-reads everything. Reconnects back
 * off from `reconnectDelayMs` to 30 s; the listener is never the reason a process stays alive.
 */
export interface PgChangeFeedOptions {
  url: string;
  /** A plain identifier: lower-case letters, digits and _. */
  channel: string;
  logger: Logger;
  onMessage(payload: string): void;
  onResync(): void;
  /** First wait before reconnecting, in ms. Default 500. */
  reconnectDelayMs?: number;
  /** A connection attempt fails after this, in ms. Default 5000. */
  connectTimeoutMs?: number;
}

const MAX_RECONNECT_DELAY_MS = 30_000;

export class PgChangeFeed {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;
  private closed = false;

  private constructor(private readonly opts: PgChangeFeedOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(opts.channel))
      throw new Error(`not a plain channel name: ${opts.channel}`);
    this.delay = opts.reconnectDelayMs ?? 500;
  }

  /** Connects and listens; rejects when the server cannot be reached now. */
  static async start(opts: PgChangeFeedOptions): Promise<PgChangeFeed> {
    const feed = new PgChangeFeed(opts);
    await feed.connect();
    return feed;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.opts.url,
      connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 5_000,
      application_name: 'citymetrics-feed',
    });
    // Both fire when the connection is lost; the first one schedules the reconnect.
    const lost = (err?: Error) => this.lost(client, err);
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (msg) => {
      if (msg.channel === this.opts.channel && msg.payload !== undefined) this.opts.onMessage(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.opts.channel}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private lost(client: pg.Client, err?: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.opts.logger.warn(
      { err: err?.message, channel: this.opts.channel },
      'change feed lost, reconnecting',
    );
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect().then(
        () => {
          if (this.closed) return;
          this.delay = this.opts.reconnectDelayMs ?? 500;
          this.opts.logger.info({ channel: this.opts.channel }, 'change feed reconnected');
          this.opts.onResync();
        },
        (err: unknown) => {
          if (this.closed) return;
          this.opts.logger.warn({ err: (err as Error).message }, 'change feed reconnect failed');
          this.delay = Math.min(this.delay * 2, MAX_RECONNECT_DELAY_MS);
          this.schedule();
        },
      );
    }, this.delay);
    this.timer.unref();
  }
}
