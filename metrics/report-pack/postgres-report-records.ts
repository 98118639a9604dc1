import type pg from 'pg';
import { CityError } from '../../core/errors.ts';
import type { CorruptRow } from '../../core/json-column.ts';
import type { Logger } from '../../core/logger.ts';
import type { PgComponentSchema } from '../../core/pg-component-schema.ts';
import { openPgPart } from '../../core/pg-part.ts';
import { handlePoolErrors } from '../../core/pg-pool-errors.ts';
import { inPgTransaction } from '../../core/pg-transaction.ts';
import type { ReportPack } from './build-pack.ts';
import {
  type DeliveryRecord,
  type DeliveryTargetRef,
  type DeliveryTrigger,
  ERROR_MAX_CHARS,
  type OwedPack,
  type PackRecord,
  type ReportRecords,
} from './report-records.ts';
import {
  type DeliveryRow,
  fileHashesOf,
  type PackFileRow,
  parseManifest,
  toDelivery,
  toPackFile,
} from './report-rows.ts';

export const PG_REPORTS_SCHEMA_VERSION = 1;

/** The tables of reports.db, prefixed: the database is shared with the other parts. */
const SCHEMA: PgComponentSchema = {
  what: 'report delivery record',
  versionTable: 'citymetrics_reports_schema',
  version: PG_REPORTS_SCHEMA_VERSION,
  tables: ['report_meta', 'report_owed', 'report_packs', 'report_pack_files', 'report_deliveries'],
  // 'CMRP', as the SQLite file's application id
  lock: 0x434d5250,
  ddl: `
    CREATE TABLE report_meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE report_owed (
      month text NOT NULL,
      version integer NOT NULL,
      trigger text NOT NULL,
      at bigint NOT NULL,
      PRIMARY KEY (month, version)
    );
    CREATE TABLE report_packs (
      month text NOT NULL,
      version integer NOT NULL,
      status text NOT NULL,
      built_at bigint NOT NULL,
      manifest text NOT NULL,
      PRIMARY KEY (month, version)
    );
    CREATE TABLE report_pack_files (
      month text NOT NULL,
      version integer NOT NULL,
      position integer NOT NULL,
      name text NOT NULL,
      content_type text NOT NULL,
      sha256 text NOT NULL,
      body bytea NOT NULL,
      PRIMARY KEY (month, version, name)
    );
    CREATE TABLE report_deliveries (
      id bigserial PRIMARY KEY,
      month text NOT NULL,
      version integer NOT NULL,
      target text NOT NULL CHECK (target IN ('folder', 'webhook')),
      destination text NOT NULL,
      trigger text NOT NULL,
      state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      last_error_code text,
      created_at bigint NOT NULL,
      last_attempt_at bigint,
      delivered_at bigint,
      file_hashes text NOT NULL
    );
    CREATE INDEX report_deliveries_state ON report_deliveries (state);
    CREATE INDEX report_deliveries_month ON report_deliveries (month, version);`,
};

export interface PostgresReportRecordsOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  logger: Logger;
  /** When the record begins if it is new (epoch ms); the first node to open it sets it. */
  now: number;
  /** Connections in the pool (default 2). */
  maxConnections?: number;
  /** A connection attempt fails after this (default 5000 ms). */
  connectTimeoutMs?: number;
}

const INSERT_DELIVERY = `INSERT INTO report_deliveries
  (month, version, target, destination, trigger, state, created_at, file_hashes)
  VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING *`;

/**
 * The report delivery record in PostgreSQL, for a cluster: the kpi leader builds and delivers, the node
 * that takes over goes on from the same rows, and the api nodes list them. Only the leader writes; a
 * pack is stored once per month and version (its primary key) and a delivery leaves `pending` once (every
 * update asks for it), so a leader that lost its lock without noticing yet cannot store a second pack
 * nor mark a delivery twice.
 */
export class PostgresReportRecords implements ReportRecords {
  readonly location: string;
  private closed = false;
  private readonly corrupt: CorruptRow;

  private constructor(
    private readonly pool: pg.Pool,
    log: Logger,
    database: string,
  ) {
    this.location = `postgres:${database}`;
    this.corrupt = (detail, cause) =>
      new CityError('STORE_CORRUPT', `PostgreSQL report records (${database}): ${detail}`, { cause });
    handlePoolErrors(pool, (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost'));
  }

  /** Connects and creates or checks the schema (STORE_CORRUPT for another version). */
  static open(opts: PostgresReportRecordsOptions): Promise<PostgresReportRecords> {
    const log = opts.logger.child({ component: 'report-records', store: 'postgres' });
    return openPgPart(
      { ...opts, schema: SCHEMA, applicationName: 'citymetrics-reports' },
      (pool, database) => new PostgresReportRecords(pool, log, database),
      async (records) => {
        await records.pool.query(
          "INSERT INTO report_meta (key, value) VALUES ('created_at', $1) ON CONFLICT (key) DO NOTHING",
          [String(opts.now)],
        );
      },
    );
  }

  private async rows<T extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<T[]> {
    return (await this.pool.query<T>(sql, args)).rows;
  }

  async createdAt(): Promise<number> {
    const [row] = await this.rows<{ value: string }>(
      "SELECT value FROM report_meta WHERE key = 'created_at'",
    );
    return Number(row?.value ?? 0);
  }

  async owe(month: string, version: number, trigger: DeliveryTrigger, at: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO report_owed (month, version, trigger, at)
       SELECT $1::text, $2::integer, $3::text, $4::bigint
       WHERE NOT EXISTS (SELECT 1 FROM report_packs WHERE month = $1 AND version = $2)
       ON CONFLICT (month, version) DO NOTHING`,
      [month, version, trigger, at],
    );
  }

  owed(): Promise<OwedPack[]> {
    return this.rows<OwedPack>('SELECT month, version, trigger FROM report_owed ORDER BY month, version');
  }

  async dropOwed(month: string, version: number): Promise<void> {
    await this.pool.query('DELETE FROM report_owed WHERE month = $1 AND version = $2', [month, version]);
  }

  async hasPack(month: string, version: number): Promise<boolean> {
    const found = await this.rows('SELECT 1 FROM report_packs WHERE month = $1 AND version = $2', [
      month,
      version,
    ]);
    return found.length > 0;
  }

  savePack(
    pack: ReportPack,
    targets: readonly DeliveryTargetRef[],
    trigger: DeliveryTrigger,
    at: number,
  ): Promise<DeliveryRecord[] | null> {
    return this.transaction(async (c) => {
      const stored = await c.query(
        `INSERT INTO report_packs (month, version, status, built_at, manifest) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (month, version) DO NOTHING`,
        [pack.month, pack.version, pack.manifest.status, at, JSON.stringify(pack.manifest)],
      );
      if ((stored.rowCount ?? 0) === 0) return null;
      for (const [i, f] of pack.files.entries())
        await c.query(
          `INSERT INTO report_pack_files (month, version, position, name, content_type, sha256, body)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [pack.month, pack.version, i, f.name, f.contentType, f.sha256, f.body],
        );
      await c.query('DELETE FROM report_owed WHERE month = $1 AND version = $2', [pack.month, pack.version]);
      return this.insertDeliveries(c, pack, targets, trigger, at);
    });
  }

  private async insertDeliveries(
    c: pg.ClientBase,
    pack: Pick<ReportPack, 'month' | 'version' | 'files'>,
    targets: readonly DeliveryTargetRef[],
    trigger: DeliveryTrigger,
    at: number,
  ): Promise<DeliveryRecord[]> {
    const hashes = fileHashesOf(pack.files);
    const out: DeliveryRecord[] = [];
    for (const t of targets) {
      const r = await c.query<DeliveryRow>(INSERT_DELIVERY, [
        pack.month,
        pack.version,
        t.target,
        t.destination,
        trigger,
        at,
        hashes,
      ]);
      out.push(toDelivery(r.rows[0]!, this.corrupt));
    }
    return out;
  }

  addDeliveries(
    pack: Pick<ReportPack, 'month' | 'version' | 'files'>,
    targets: readonly DeliveryTargetRef[],
    trigger: DeliveryTrigger,
    at: number,
  ): Promise<DeliveryRecord[]> {
    return this.transaction((c) => this.insertDeliveries(c, pack, targets, trigger, at));
  }

  async pack(month: string, version: number): Promise<ReportPack | null> {
    const [row] = await this.rows<{ manifest: string }>(
      'SELECT manifest FROM report_packs WHERE month = $1 AND version = $2',
      [month, version],
    );
    if (row === undefined) return null;
    const files = await this.rows<PackFileRow>(
      `SELECT name, content_type, sha256, body FROM report_pack_files WHERE month = $1 AND version = $2
       ORDER BY position`,
      [month, version],
    );
    return { month, version, manifest: parseManifest(row.manifest), files: files.map(toPackFile) };
  }

  async latestPack(month: string): Promise<PackRecord | null> {
    const [row] = await this.rows<{
      month: string;
      version: number;
      status: PackRecord['status'];
      built_at: number;
    }>(
      'SELECT month, version, status, built_at FROM report_packs WHERE month = $1 ORDER BY version DESC LIMIT 1',
      [month],
    );
    return row === undefined
      ? null
      : { month: row.month, version: row.version, status: row.status, builtAt: row.built_at };
  }

  async delivery(id: number): Promise<DeliveryRecord | null> {
    const [row] = await this.rows<DeliveryRow>('SELECT * FROM report_deliveries WHERE id = $1', [id]);
    return row === undefined ? null : toDelivery(row, this.corrupt);
  }

  async pending(): Promise<DeliveryRecord[]> {
    return (
      await this.rows<DeliveryRow>("SELECT * FROM report_deliveries WHERE state = 'pending' ORDER BY id")
    ).map((r) => toDelivery(r, this.corrupt));
  }

  async deliveries(options: { month?: string; limit?: number } = {}): Promise<DeliveryRecord[]> {
    const limit = options.limit ?? 200;
    const rows =
      options.month === undefined
        ? await this.rows<DeliveryRow>('SELECT * FROM report_deliveries ORDER BY id DESC LIMIT $1', [limit])
        : await this.rows<DeliveryRow>(
            'SELECT * FROM report_deliveries WHERE month = $1 ORDER BY id DESC LIMIT $2',
            [options.month, limit],
          );
    return rows.map((r) => toDelivery(r, this.corrupt));
  }

  async recordFailure(
    id: number,
    at: number,
    error: { code: string; message: string },
    final: boolean,
  ): Promise<void> {
    await this.pool.query(
      `UPDATE report_deliveries SET attempts = attempts + 1, last_attempt_at = $1, last_error = $2,
       last_error_code = $3, state = CASE WHEN $4::boolean THEN 'failed' ELSE state END
       WHERE id = $5 AND state = 'pending'`,
      [at, error.message.slice(0, ERROR_MAX_CHARS), error.code, final, id],
    );
  }

  async recordDelivered(id: number, at: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE report_deliveries SET attempts = attempts + 1, last_attempt_at = $1, delivered_at = $1,
       state = 'delivered' WHERE id = $2 AND state = 'pending'`,
      [at, id],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async markFailed(id: number, at: number, error: { code: string; message: string }): Promise<void> {
    await this.pool.query(
      `UPDATE report_deliveries SET state = 'failed', last_error = $1, last_error_code = $2,
       last_attempt_at = COALESCE(last_attempt_at, $3) WHERE id = $4 AND state = 'pending'`,
      [error.message.slice(0, ERROR_MAX_CHARS), error.code, at, id],
    );
  }

  /** A pack another node stored first (null): nothing of this one is kept. */
  private transaction<T>(run: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inPgTransaction(this.pool, 'BEGIN', run, (out) => out !== null);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
