import pg from 'pg';
import type { Logger } from '../core/logger.ts';
import { postgresStartError } from './cluster-links.ts';

/** The advisory lock the kpi nodes of one database compete for ('CMKL'). */
export const KPI_LEADER_LOCK = 0x434d4b4c;

export type LeaderState = 'standby' | 'leader' | 'stopped';

export interface LeadershipDeps {
  /** postgres://… : the lock is taken on a connection of its own, never on a pool shared with queries. */
  url: string;
  logger: Logger;
  /** Called once the lock is held: start computing. A throw releases the lock and it is tried again later. */
  onLead(): Promise<void>;
  /** Called when the lock is lost (connection gone) or at stop: stop computing at once. */
  onStepDown(): Promise<void>;
}

export interface LeadershipOptions {
  /** A standby tries to take the lock this often, and a leader checks its connection this often (ms). */
  retryMs: number;
  lockKey?: number;
}

/**
 * One leader among the kpi nodes, by a PostgreSQL session advisory lock (`pg_try_advisory_lock`): the
 * server holds it for as long as the session that took it lives, so a leader that dies (SIGKILL, power, a
 * cut network once the server notices) frees it without a lease to expire. A standby asks every
 * `retryMs`; the leader runs `SELECT 1` on the same session as often, and steps down the moment that
 * session fails or ends, since the server has then released the lock and a standby may already hold it.
 */
export class AdvisoryLeadership {
  private client: pg.Client | null = null;
  private stateNow: LeaderState = 'standby';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly key: number;
  /** Why the last attempt failed, for /readyz; null when it did not. */
  private lastError: string | null = null;

  constructor(
    private readonly deps: LeadershipDeps,
    private readonly options: LeadershipOptions,
  ) {
    this.log = deps.logger.child({ component: 'kpi-leadership' });
    this.key = options.lockKey ?? KPI_LEADER_LOCK;
  }

  get state(): LeaderState {
    return this.stateNow;
  }

  /** Whether the lock connection works (a standby that cannot reach PostgreSQL is not ready). */
  get connected(): boolean {
    return this.client !== null;
  }

  get detail(): string | null {
    return this.lastError;
  }

  /**
   * The first attempt is awaited: an unreachable server fails the start (INGEST_STORE_UNAVAILABLE naming
   * POSTGRES_URL). Leader or standby, the loop then runs until stop().
   */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      throw postgresStartError(err, this.deps.url, 'kpi leader lock');
    }
    await this.serial(() => this.attempt());
    this.schedule();
  }

  private schedule(): void {
    if (this.stateNow === 'stopped') return;
    this.timer = setTimeout(() => {
      void this.serial(() => this.attempt()).finally(() => this.schedule());
    }, this.options.retryMs);
    this.timer.unref();
  }

  /** One step at a time: an attempt, a step-down and stop never interleave. */
  private serial(step: () => Promise<void>): Promise<void> {
    this.running = this.running.then(step).catch((err: unknown) => {
      this.log.error({ err }, 'leadership step failed');
    });
    return this.running;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.deps.url,
      connectionTimeoutMillis: 5_000,
      // A half-open session (a cut network) would leave the heartbeat hanging while the server may have
      // released the lock: a query that does not answer in time counts as a lost session.
      query_timeout: Math.max(1_000, this.options.retryMs * 2),
      application_name: 'citymetrics-kpi-leader',
      keepAlive: true,
    });
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = null;
      this.lastError = why;
      void client.end().catch(() => {});
      void this.serial(() => this.stepDown(why));
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    await client.connect();
    this.client = client;
    return client;
  }

  private async attempt(): Promise<void> {
    if (this.stateNow === 'stopped') return;
    try {
      const client = this.client ?? (await this.connect());
      if (this.stateNow === 'leader') {
        // The session is the lock: if it no longer answers, the server may already have released it.
        await client.query('SELECT 1');
        return;
      }
      const res = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        this.key,
      ]);
      this.lastError = null;
      if (res.rows[0]?.locked !== true) return;
      this.stateNow = 'leader';
      this.log.info('kpi leader: computing and closing months here');
      try {
        await this.deps.onLead();
      } catch (err) {
        this.log.error({ err }, 'kpi leader could not start; releasing the lock');
        this.stateNow = 'standby';
        await this.deps.onStepDown().catch(() => {});
        await client.query('SELECT pg_advisory_unlock($1)', [this.key]).catch(() => {});
      }
    } catch (err) {
      this.lastError = (err as Error).message;
      const client = this.client;
      this.client = null;
      await client?.end().catch(() => {});
      await this.stepDown(this.lastError);
    }
  }

  private async stepDown(why: string): Promise<void> {
    if (this.stateNow !== 'leader') return;
    this.stateNow = 'standby';
    this.log.warn({ why }, 'kpi leader lock lost: standing by');
    await this.deps.onStepDown();
  }

  /** Steps down (the engine stops first) and ends the session, which releases the lock for a standby. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    await this.serial(async () => {
      const wasLeader = this.stateNow === 'leader';
      this.stateNow = 'stopped';
      if (wasLeader) await this.deps.onStepDown();
      const client = this.client;
      this.client = null;
      await client?.end().catch(() => {});
    });
  }
}
